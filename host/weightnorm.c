/* weightnorm.c: weight normalisation of a Linear layer's weight (cl/weightnorm.cl), on the
 * device and as a C reference. Dimensions: OUT rows of IN weights. */
#include "gancl/layers.h"

#include <math.h>

void weightnorm_forward(const gancl_runtime *rt, gancl_ptr weight, gancl_ptr norm, gancl_ptr g, gancl_ptr v,
                        int OUT, int IN) {
    cl_kernel k = gancl_kernel(rt, "weightnorm_forward");
    GANCL_LAUNCH_1D(rt, k, (size_t)OUT, GANCL_P(weight), GANCL_P(norm), GANCL_P(g), GANCL_P(v), GANCL_A(OUT),
                    GANCL_A(IN));
}

void weightnorm_backward(const gancl_runtime *rt, gancl_ptr dg, gancl_ptr dv, gancl_ptr dweight, gancl_ptr g,
                         gancl_ptr v, gancl_ptr norm, int OUT, int IN) {
    cl_kernel k = gancl_kernel(rt, "weightnorm_backward");
    const int train_g = dg.mem != NULL;
    if (!train_g) dg = dv; /* a valid buffer the kernel then leaves alone */
    GANCL_LAUNCH_1D(rt, k, (size_t)OUT, GANCL_P(dg), GANCL_P(dv), GANCL_P(dweight), GANCL_P(g), GANCL_P(v),
                    GANCL_P(norm), GANCL_A(OUT), GANCL_A(IN), GANCL_A(train_g));
}

static double row_norm(const double *v, int IN) {
    double s = 0;
    for (int i = 0; i < IN; i++) s += v[i] * v[i];
    return sqrt(s);
}

void weightnorm_forward_ref(double *weight, const double *g, const double *v, int OUT, int IN) {
    for (int o = 0; o < OUT; o++) {
        const double *vr = v + (size_t)o * IN, nr = row_norm(vr, IN);
        for (int i = 0; i < IN; i++) weight[(size_t)o * IN + i] = g[o] * vr[i] / nr;
    }
}

void weightnorm_backward_ref(double *dg, double *dv, const double *dweight, const double *g, const double *v,
                             int OUT, int IN) {
    for (int o = 0; o < OUT; o++) {
        const double *vr = v + (size_t)o * IN, *dr = dweight + (size_t)o * IN, nr = row_norm(vr, IN);
        double s = 0;
        for (int i = 0; i < IN; i++) s += dr[i] * vr[i];
        if (dg) dg[o] += s / nr;
        for (int i = 0; i < IN; i++) dv[(size_t)o * IN + i] += g[o] / nr * (dr[i] - s * vr[i] / (nr * nr));
    }
}
