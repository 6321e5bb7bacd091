/* loss.c: binary cross-entropy on logits (cl/loss.cl) and its C reference. */
#include "gancl/layers.h"

#include <math.h>

void bce_forward_backward(const gancl_runtime *rt, gancl_ptr dlogit, gancl_ptr logit, int n,
                          float target, float grad_scale, cl_mem acc, int loss_slot,
                          float weight, int prob_slot) {
    cl_kernel k = gancl_kernel(rt, "bce_logits");
    GANCL_LAUNCH_1D(rt, k, (size_t)n, GANCL_P(dlogit), GANCL_P(logit), GANCL_A(n),
                    GANCL_A(target), GANCL_A(grad_scale), GANCL_A(acc), GANCL_A(loss_slot),
                    GANCL_A(weight), GANCL_A(prob_slot));
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
