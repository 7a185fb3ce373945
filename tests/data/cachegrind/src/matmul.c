/* matmul: naive i-j-k multiply of two 72x72 double matrices (124 KB of data, twice the
 * small geometry's LL), B walked down its columns. Deterministic; built with gcc -O1 -static. */
#include <stdio.h>

#define N 72
static double a[N][N], b[N][N], c[N][N];

int main(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            a[i][j] = (double)((i * 7 + j * 3) % 11) - 5.0;
            b[i][j] = (double)((i * 5 + j * 13) % 17) / 4.0;
        }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < N; k++)
                s += a[i][k] * b[k][j];
            c[i][j] = s;
        }
    double trace = 0.0;
    for (int i = 0; i < N; i++)
        trace += c[i][i];
    printf("%.1f\n", trace);
    return 0;
}
