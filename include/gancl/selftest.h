/* selftest.h: device checks behind `gan-cl --self-test` and the opencl test suite. Each check
 * runs one kernel or GEMM path on small random data (odd sizes, non-zero offsets) and returns
 * the largest error against its C reference. */
#ifndef GANCL_SELFTEST_H
#define GANCL_SELFTEST_H

#include "gancl/device.h"

#include <stdint.h>
#include <stdio.h>

typedef double (*gancl_check_fn)(const gancl_runtime *rt);

typedef struct {
    const char *name;
    gancl_check_fn run; /* returns the max error (relative where the check says so) */
    double tol;
    int groups; /* checks of kernels with two shapes (per-feature sums, im2col/col2im): 0 with
                   the CPU-shaped ones, 1 with the GPU-shaped ones (rt->gpu_shaped); -1: with
                   the runtime's choice */
} gancl_check;

extern const gancl_check GANCL_CHECKS[];
extern const int GANCL_N_CHECKS;

/* Runs check c on rt (with the reduction kernels the check names): its max error. */
double gancl_check_run(const gancl_check *c, const gancl_runtime *rt);

/* One GEMM method and transpose on three odd shapes at non-zero offsets, alpha 0.75 and beta
 * 0.5: the max relative error against gancl_gemm_ref (infinite if it wrote before C). */
double gancl_check_gemm(const gancl_runtime *rt, gancl_gemm_method method, int ta, int tb);

/* Runs every check, printing "name  max error  PASS/FAIL" per line; returns the failure count. */
int gancl_selftest_run(const gancl_runtime *rt, FILE *out);

/* Deterministic host random numbers for checks and tests (splitmix64). */
uint64_t gancl_splitmix64(uint64_t *state);
/* Uniform in [lo, hi). */
float gancl_uniform(uint64_t *state, float lo, float hi);

#endif
