/* fuzz_checkpoint.c: the safetensors checkpoint reader on arbitrary bytes: the container
 * (header length, JSON header, dtypes, shapes, offsets, metadata), then what `generate` and
 * `--resume` read from it before any device work: the architecture (widths parsed and the
 * networks built from them on the host) and the EMA decay. Loading the tensors into device
 * buffers is not fuzzed here. */
#include "gancl/checkpoint.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    gancl_checkpoint ck;
    char err[GANCL_ERR_LEN];
    err[0] = 0;
    if (gancl_checkpoint_open_bytes("fuzz.safetensors", copy, size, &ck, err)) {
        if (!err[0]) abort(); /* a failure always says why */
        return 0;
    }
    gancl_arch arch;
    if (gancl_checkpoint_arch(&ck, &arch, err) == 0) {
        static gancl_net g, d;
        (void)gancl_model_build(&arch, &g, &d, err);
    }
    const float ema = gancl_checkpoint_ema(&ck);
    if (!(ema == 0 || (ema > 0 && ema < 1))) abort();
    gancl_checkpoint_close(&ck);
    return 0;
}
