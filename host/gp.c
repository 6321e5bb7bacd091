/* gp.c: the WGAN-GP gradient penalty's device pieces (cl/gp.cl) and their C references. The
 * penalty's gradient with respect to the critic's parameters is put together in gan.c. */
#include "gancl/layers.h"

#include <math.h>

void gp_interpolate(const gancl_runtime *rt, gancl_ptr xhat, gancl_ptr real, gancl_ptr fake,
                    int B, int I, uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2) {
    cl_kernel k = gancl_kernel(rt, "gp_interpolate");
    GANCL_LAUNCH_1D(rt, k, (size_t)B * I, GANCL_P(xhat), GANCL_P(real), GANCL_P(fake), GANCL_A(B),
                    GANCL_A(I), GANCL_A(k0), GANCL_A(k1), GANCL_A(c1), GANCL_A(c2));
}

void gp_direction(const gancl_runtime *rt, gancl_ptr g, gancl_ptr sq, int B, int I, float lambda) {
    cl_kernel k = gancl_kernel(rt, "gp_direction");
    GANCL_LAUNCH_1D(rt, k, (size_t)B, GANCL_P(g), GANCL_P(sq), GANCL_A(B), GANCL_A(I), GANCL_A(lambda));
}

void gp_sum(const gancl_runtime *rt, cl_mem acc, int slot, gancl_ptr sq, int B, float lambda) {
    cl_kernel k = gancl_kernel(rt, "gp_sum");
    GANCL_LAUNCH_1D(rt, k, 1, GANCL_A(acc), GANCL_A(slot), GANCL_P(sq), GANCL_A(B), GANCL_A(lambda));
}

double gp_eps_ref(int b, uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2) {
    uint32_t ctr[4] = {(uint32_t)b, c1, c2, 1}, key[2] = {k0, k1}, r[4];
    philox4x32_10_ref(ctr, key, r);
    return ((double)(r[0] >> 8) + 0.5) / 16777216.0;
}

double gp_direction_ref(double *g, int B, int I, double lambda) {
    double total = 0;
    for (int b = 0; b < B; b++) {
        double ss = 0;
        for (int k = 0; k < I; k++) ss += g[b * I + k] * g[b * I + k];
        double norm = sqrt(ss);
        total += (norm - 1) * (norm - 1);
        double f = norm > 0 ? 2 * lambda * (norm - 1) / (norm * B) : 0;
        for (int k = 0; k < I; k++) g[b * I + k] *= f;
    }
    return lambda * total / B;
}
