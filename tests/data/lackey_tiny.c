/* A program small enough that its whole lackey trace is a test fixture. Built with
 *   gcc -O0 -static -nostdlib -fno-pie -no-pie -fno-stack-protector -o tiny lackey_tiny.c
 * and traced with valgrind --tool=lackey --trace-mem=yes ./tiny 2> lackey_tiny.txt */
static long data[8];
void _start(void)
{
    for (int i = 0; i < 8; i++)
        data[i] = i * 3;
    long s = 0;
    for (int i = 0; i < 8; i++)
        s += data[i];
    data[0] += s; /* read-modify-write */
    __asm__ volatile("mov $60, %%eax\n xor %%edi, %%edi\n syscall" ::: "rax", "rdi", "memory");
    for (;;) {}
}
