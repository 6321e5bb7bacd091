/* fuzz_metrics.c: the metrics.csv reader `--resume` uses, on arbitrary text, then writing
 * what it read back (CSV and the SVG plot) into memory. (Not to /dev/null through the file
 * writers: their atomic rename would replace the device with a regular file.) */
#define _GNU_SOURCE
#include "gancl/metrics.h"
#include "gancl/check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f) return 0;
    gancl_metrics m = {0};
    char err[GANCL_ERR_LEN];
    err[0] = 0;
    const int rc = gancl_metrics_read(&m, f, "fuzz.csv", 1000000, err);
    fclose(f);
    if (rc && !err[0]) abort(); /* a failure always says why */
    if (rc == 0 && m.n) {
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        if (!out) abort();
        gancl_metrics_csv(&m, out);
        gancl_metrics_svg(&m, out, "fuzz <&>", 1);
        fclose(out);
        if (len < 7 || strcmp(text + len - 7, "</svg>\n")) abort(); /* a whole plot */
        free(text);
    }
    gancl_metrics_free(&m);
    return 0;
}
