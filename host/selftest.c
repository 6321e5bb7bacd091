/* selftest.c: the table of device checks (kernel vs C reference) and their runner. */
#include "gancl/selftest.h"
#include "gancl/gemm.h"

#include <math.h>
#include <stdlib.h>

uint64_t gancl_splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

float gancl_uniform(uint64_t *s, float lo, float hi) {
    return lo + (hi - lo) * (float)((gancl_splitmix64(s) >> 40) * (1.0 / 16777216.0));
}

/* One GEMM on random data placed at odd offsets of three buffers, against gancl_gemm_ref.
 * Returns max |device - reference| / (1 + |reference|) over two shapes. */
static double gemm_check(const gancl_runtime *rt, gancl_gemm_backend backend, int ta, int tb) {
    static const size_t shapes[2][3] = {{37, 29, 53}, {130, 67, 300}};
    const size_t a_off = 3, b_off = 5, c_off = 7;
    uint64_t seed = 1234 + 17 * (size_t)ta + 31 * (size_t)tb;
    double worst = 0;
    for (int s = 0; s < 2; s++) {
        size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *A = malloc((a_off + M * K) * sizeof *A), *B = malloc((b_off + K * N) * sizeof *B);
        float *C = malloc((c_off + M * N) * sizeof *C), *R = malloc(M * N * sizeof *R);
        if (!A || !B || !C || !R) gancl_die("out of host memory");
        for (size_t i = 0; i < a_off + M * K; i++) A[i] = gancl_uniform(&seed, -1, 1);
        for (size_t i = 0; i < b_off + K * N; i++) B[i] = gancl_uniform(&seed, -1, 1);
        for (size_t i = 0; i < c_off + M * N; i++) C[i] = gancl_uniform(&seed, -1, 1);
        for (size_t i = 0; i < M * N; i++) R[i] = C[c_off + i];
        float before[8];
        for (size_t i = 0; i < c_off; i++) before[i] = C[i];
        cl_mem dA = gancl_buffer(rt, (a_off + M * K) * 4), dB = gancl_buffer(rt, (b_off + K * N) * 4);
        cl_mem dC = gancl_buffer(rt, (c_off + M * N) * 4);
        gancl_write(rt, dA, 0, (a_off + M * K) * 4, A);
        gancl_write(rt, dB, 0, (b_off + K * N) * 4, B);
        gancl_write(rt, dC, 0, (c_off + M * N) * 4, C);
        gancl_gemm(rt, backend, ta, tb, M, N, K, 0.75f, dA, a_off, dB, b_off, 0.5f, dC, c_off);
        gancl_read(rt, dC, 0, (c_off + M * N) * 4, C);
        gancl_gemm_ref(ta, tb, M, N, K, 0.75f, A + a_off, B + b_off, 0.5f, R);
        for (size_t i = 0; i < M * N; i++) {
            double e = fabs((double)C[c_off + i] - R[i]) / (1.0 + fabs(R[i]));
            if (!(e <= worst)) worst = e; /* NaN propagates as a failure */
        }
        for (size_t i = 0; i < c_off; i++) /* the product must not touch what precedes C */
            if (C[i] != before[i]) worst = INFINITY;
        clReleaseMemObject(dA);
        clReleaseMemObject(dB);
        clReleaseMemObject(dC);
        free(A);
        free(B);
        free(C);
        free(R);
    }
    return worst;
}

#define GEMM_CHECK(backend, ta, tb)                                              \
    static double check_##backend##_##ta##tb(const gancl_runtime *rt) {          \
        return gemm_check(rt, GANCL_GEMM_##backend, ta, tb);                     \
    }
GEMM_CHECK(CLBLAST, 0, 0)
GEMM_CHECK(CLBLAST, 0, 1)
GEMM_CHECK(CLBLAST, 1, 0)
GEMM_CHECK(CLBLAST, 1, 1)
GEMM_CHECK(MATMUL, 0, 0)
GEMM_CHECK(MATMUL, 0, 1)
GEMM_CHECK(MATMUL, 1, 0)
GEMM_CHECK(MATMUL, 1, 1)

const gancl_check GANCL_CHECKS[] = {
    {"gemm clblast A B", check_CLBLAST_00, 1e-4},
    {"gemm clblast A B^T", check_CLBLAST_01, 1e-4},
    {"gemm clblast A^T B", check_CLBLAST_10, 1e-4},
    {"gemm clblast A^T B^T", check_CLBLAST_11, 1e-4},
    {"gemm matmul A B", check_MATMUL_00, 1e-4},
    {"gemm matmul A B^T", check_MATMUL_01, 1e-4},
    {"gemm matmul A^T B", check_MATMUL_10, 1e-4},
    {"gemm matmul A^T B^T", check_MATMUL_11, 1e-4},
};
const int GANCL_N_CHECKS = sizeof GANCL_CHECKS / sizeof *GANCL_CHECKS;

int gancl_selftest_run(const gancl_runtime *rt, FILE *out) {
    int failures = 0;
    for (int i = 0; i < GANCL_N_CHECKS; i++) {
        double err = GANCL_CHECKS[i].run(rt);
        int pass = err <= GANCL_CHECKS[i].tol;
        failures += !pass;
        fprintf(out, "  %-32s max error %.3e (tol %.0e)  %s\n", GANCL_CHECKS[i].name, err,
                GANCL_CHECKS[i].tol, pass ? "PASS" : "FAIL");
        fflush(out);
    }
    return failures;
}
