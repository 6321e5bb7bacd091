/* fuzz_cache.c: the kernel-cache entry reader (host/program.c) on arbitrary bytes, with the
 * key the seed corpus was written for: SHA-256 of "gan-cl fuzz key" (tools/make_fuzz_seeds.py).
 * An accepted entry's binary must lie inside the input. */
#include "gancl/program.h"
#include "gancl/sha256.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char phrase[] = "gan-cl fuzz key";
    uint8_t key[32];
    gancl_sha256 s;
    gancl_sha256_init(&s);
    gancl_sha256_update(&s, phrase, strlen(phrase));
    gancl_sha256_final(&s, key);
    const uint8_t *bin = NULL;
    size_t len = 0;
    if (gancl_cache_entry_parse(data, size, key, &bin, &len) == 0 &&
        (bin < data || len > size || bin + len != data + size))
        abort();
    return 0;
}
