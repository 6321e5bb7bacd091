/* fuzz_tuning.c: the tuning-file reader (host/tune.c) on arbitrary text, as it would be read
 * for a device named "fuzz-device" with driver "fuzz-driver" (the names in the seed corpus). */
#include "gancl/tune.h"
#include "gancl/check.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[GANCL_ERR_LEN];
    err[0] = 0;
    if (gancl_tuning_check("fuzz-device", "fuzz-driver", data, size, err) && !err[0])
        abort(); /* a rejection always says why */
    return 0;
}
