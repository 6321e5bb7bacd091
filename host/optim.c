/* optim.c: the optimisers (Adam, RMSprop), weight clipping and zeroing the gradients, one launch per network over its
 * flat buffer (cl/optim.cl), and their C references. */
#include "gancl/layers.h"

#include <math.h>

void adam_update(const gancl_runtime *rt, cl_mem buf, size_t n, float lr, float beta1,
                 float beta2, float eps, long t) {
    cl_kernel k = gancl_kernel(rt, "adam");
    float bc1 = (float)(1.0 - pow(beta1, (double)t)), bc2 = (float)(1.0 - pow(beta2, (double)t));
    GANCL_LAUNCH_1D(rt, k, (n + 7) / 8, GANCL_A(buf), GANCL_V(cl_uint, n), GANCL_A(lr), GANCL_A(beta1),
                    GANCL_A(beta2), GANCL_A(eps), GANCL_A(bc1), GANCL_A(bc2));
}

void adam_ref(double *p, const double *g, double *m, double *v, size_t n, double lr,
              double beta1, double beta2, double eps, long t) {
    double bc1 = 1.0 - pow(beta1, (double)t), bc2 = 1.0 - pow(beta2, (double)t);
    for (size_t i = 0; i < n; i++) {
        m[i] = beta1 * m[i] + (1 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
        p[i] -= (lr / bc1) * m[i] / (sqrt(v[i]) / sqrt(bc2) + eps);
    }
}

void rmsprop_update(const gancl_runtime *rt, cl_mem buf, size_t n, float lr, float alpha, float eps) {
    cl_kernel k = gancl_kernel(rt, "rmsprop");
    GANCL_LAUNCH_1D(rt, k, (n + 7) / 8, GANCL_A(buf), GANCL_V(cl_uint, n), GANCL_A(lr), GANCL_A(alpha), GANCL_A(eps));
}

void clip_params(const gancl_runtime *rt, cl_mem buf, size_t n, float c) {
    cl_kernel k = gancl_kernel(rt, "clip_params");
    GANCL_LAUNCH_1D(rt, k, n, GANCL_A(buf), GANCL_V(cl_uint, n), GANCL_A(c));
}

void zero_grads(const gancl_runtime *rt, cl_mem buf, size_t n) {
    cl_kernel k = gancl_kernel(rt, "zero_grads");
    GANCL_LAUNCH_1D(rt, k, (n + 3) / 4, GANCL_A(buf), GANCL_V(cl_uint, n));
}

void rmsprop_ref(double *p, const double *g, double *v, size_t n, double lr, double alpha, double eps) {
    for (size_t i = 0; i < n; i++) {
        v[i] = alpha * v[i] + (1 - alpha) * g[i] * g[i];
        p[i] -= lr * g[i] / (sqrt(v[i]) + eps);
    }
}

void ema_update(const gancl_runtime *rt, gancl_ptr avg, gancl_ptr x, size_t n, float decay) {
    cl_kernel k = gancl_kernel(rt, "ema_update");
    GANCL_LAUNCH_1D(rt, k, n, GANCL_P(avg), GANCL_P(x), GANCL_V(cl_uint, n), GANCL_A(decay));
}

void ema_ref(double *avg, const double *x, size_t n, double decay) {
    for (size_t i = 0; i < n; i++) avg[i] = decay * avg[i] + (1 - decay) * x[i];
}
