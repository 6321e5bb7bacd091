/* fuzz_metrics.c: the metrics.csv reader `--resume` uses, on arbitrary text, then writing
 * what it read back (CSV and the SVG plot) to /dev/null. */
#define _GNU_SOURCE
#include "gancl/metrics.h"
#include "gancl/check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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
    if (rc == 0 && m.n && gancl_metrics_write_svg(&m, "/dev/null", "fuzz", 1, err)) abort();
    gancl_metrics_free(&m);
    return 0;
}
