/* rng.c: device random normals and uniforms (cl/rng.cl) and the bit-exact Philox reference on the host. */
#include "gancl/layers.h"

#include <math.h>

void randn_fill(const gancl_runtime *rt, gancl_ptr out, size_t n, uint32_t k0, uint32_t k1,
                uint32_t c1, uint32_t c2) {
    cl_kernel k = gancl_kernel(rt, "randn");
    const size_t items = (n + 31) / 32; /* 32 normals (8 counters) each */
    GANCL_LAUNCH_1D(rt, k, items, GANCL_P(out), GANCL_V(cl_uint, n), GANCL_A(k0), GANCL_A(k1), GANCL_A(c1),
                    GANCL_A(c2));
}

void randu_fill(const gancl_runtime *rt, gancl_ptr out, size_t n, uint32_t k0, uint32_t k1,
                uint32_t c1, uint32_t c2) {
    cl_kernel k = gancl_kernel(rt, "randu");
    GANCL_LAUNCH_1D(rt, k, (n + 3) / 4, GANCL_P(out), GANCL_V(cl_uint, n), GANCL_A(k0),
                    GANCL_A(k1), GANCL_A(c1), GANCL_A(c2));
}

void philox4x32_10_ref(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1, n3 = (uint32_t)p0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

static double u01(uint32_t r) { return ((double)(r >> 8) + 0.5) / 16777216.0; }

/* The four normals of counter ctr (Box-Muller). */
static void normals_ref(const uint32_t ctr[4], uint32_t k0, uint32_t k1, double z[4]) {
    const double two_pi = 6.283185307179586;
    uint32_t key[2] = {k0, k1}, r[4];
    philox4x32_10_ref(ctr, key, r);
    double ra = sqrt(-2 * log(u01(r[0]))), rb = sqrt(-2 * log(u01(r[2])));
    z[0] = ra * cos(two_pi * u01(r[1]));
    z[1] = ra * sin(two_pi * u01(r[1]));
    z[2] = rb * cos(two_pi * u01(r[3]));
    z[3] = rb * sin(two_pi * u01(r[3]));
}

void randn_ref(float *out, size_t n, uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2) {
    for (size_t i = 0; 4 * i < n; i++) {
        uint32_t ctr[4] = {(uint32_t)i, c1, c2, 0};
        double z[4];
        normals_ref(ctr, k0, k1, z);
        for (size_t k = 0; k < 4 && 4 * i + k < n; k++) out[4 * i + k] = (float)z[k];
    }
}

void randu_ref(float *out, size_t n, uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2) {
    for (size_t i = 0; 4 * i < n; i++) {
        uint32_t ctr[4] = {(uint32_t)i, c1, c2, 1}, key[2] = {k0, k1}, r[4];
        philox4x32_10_ref(ctr, key, r);
        for (size_t k = 0; k < 4 && 4 * i + k < n; k++) out[4 * i + k] = (float)u01(r[k]);
    }
}

void noise_apply(const gancl_runtime *rt, gancl_ptr y, gancl_ptr x, size_t n, size_t first, float sigma,
                 uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2) {
    cl_kernel k = gancl_kernel(rt, "gaussian_noise");
    const size_t items = (first + n + 31) / 32 - first / 32; /* 32 elements (8 counters) each */
    GANCL_LAUNCH_1D(rt, k, items, GANCL_P(y), GANCL_P(x), GANCL_V(cl_uint, n), GANCL_V(cl_uint, first),
                    GANCL_A(sigma), GANCL_A(k0), GANCL_A(k1), GANCL_A(c1), GANCL_A(c2));
}

double noise_normal_ref(size_t i, uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2) {
    uint32_t ctr[4] = {(uint32_t)(i / 4), c1, c2, 3};
    double z[4];
    normals_ref(ctr, k0, k1, z);
    return z[i % 4];
}
