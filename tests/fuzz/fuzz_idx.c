/* fuzz_idx.c: the IDX reader on arbitrary bytes, raw or gzip (the magic bytes choose), as
 * gancl_idx_load sees a file. A parsed file must be self-consistent. */
#include "gancl/mnist.h"
#include "gancl/check.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gancl_idx idx;
    char err[GANCL_ERR_LEN];
    err[0] = 0;
    if (gancl_idx_decode("fuzz.idx", data, size, &idx, err) == 0) {
        const size_t per = idx.magic == GANCL_IDX_IMAGES ? (size_t)idx.rows * idx.cols : 1;
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < (size_t)idx.count * per; i++) sum += idx.data[i]; /* every byte readable */
        if (idx.magic != GANCL_IDX_IMAGES && idx.magic != GANCL_IDX_LABELS) abort();
        gancl_idx_free(&idx);
    } else if (!err[0]) {
        abort(); /* a failure always says why */
    }
    return 0;
}
