/* placeholder until the cache model lands */
#include "models/hw/cache.h"
