/* loss.c: binary cross-entropy on logits (cl/loss.cl) and its C reference. */
#include "gancl/layers.h"

#include <math.h>

void bce_forward_backward(const gancl_runtime *rt, gancl_ptr dlogit, gancl_ptr logit, int n,
                          float target, float grad_scale, cl_mem acc, int loss_slot,
                          float weight, int prob_slot) {
    cl_kernel k = gancl_kernel(rt, "bce_logits");
    cl_uint dl_off = (cl_uint)dlogit.off, l_off = (cl_uint)logit.off;
    GANCL_ARG(k, 0, dlogit.mem);
    GANCL_ARG(k, 1, dl_off);
    GANCL_ARG(k, 2, logit.mem);
    GANCL_ARG(k, 3, l_off);
    GANCL_ARG(k, 4, n);
    GANCL_ARG(k, 5, target);
    GANCL_ARG(k, 6, grad_scale);
    GANCL_ARG(k, 7, acc);
    GANCL_ARG(k, 8, loss_slot);
    GANCL_ARG(k, 9, weight);
    GANCL_ARG(k, 10, prob_slot);
    gancl_launch_1d(rt, k, (size_t)n);
}

double bce_ref(double *dlogit, const double *logit, int n, double target, double grad_scale) {
    double loss = 0;
    for (int i = 0; i < n; i++) {
        double l = logit[i];
        double sig = 1.0 / (1.0 + exp(-l));
        if (dlogit) dlogit[i] = (sig - target) * grad_scale;
        loss += fmax(l, 0.0) - target * l + log1p(exp(-fabs(l)));
    }
    return loss / n;
}
