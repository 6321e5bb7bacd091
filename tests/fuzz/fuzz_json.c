/* fuzz_json.c: the JSON parser (checkpoint headers, tuning files) on arbitrary text, then a
 * walk over what it built. */
#include "gancl/json.h"
#include "gancl/check.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const gancl_json *v, int depth) {
    size_t n = 1;
    if (depth > 1000) abort(); /* the parser limits nesting */
    if (v->type == GANCL_JSON_ARRAY || v->type == GANCL_JSON_OBJECT)
        for (int i = 0; i < v->n; i++) {
            if (v->type == GANCL_JSON_OBJECT && !v->keys[i]) abort();
            n += walk(&v->items[i], depth + 1);
        }
    if (v->type == GANCL_JSON_STRING && !v->string) abort();
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gancl_json j;
    char err[GANCL_ERR_LEN];
    err[0] = 0;
    if (gancl_json_parse((const char *)data, size, &j, err) == 0) {
        walk(&j, 0);
        gancl_json_free(&j);
    } else if (!err[0]) {
        abort();
    }
    return 0;
}
