/* loss.c: the GAN losses on D's outputs (cl/loss.cl) and their C reference. */
#include "gancl/layers.h"

#include <math.h>

void gan_loss_forward_backward(const gancl_runtime *rt, gancl_ptr dlogit, gancl_ptr logit, int n,
                               gancl_loss_kind kind, float y, float grad_scale, cl_mem acc,
                               int loss_slot, float weight, int stat_slot) {
    cl_kernel k = gancl_kernel(rt, "gan_loss");
    GANCL_LAUNCH_1D(rt, k, (size_t)n, GANCL_P(dlogit), GANCL_P(logit), GANCL_A(n),
                    GANCL_V(cl_int, kind), GANCL_A(y), GANCL_A(grad_scale), GANCL_A(acc),
                    GANCL_A(loss_slot), GANCL_A(weight), GANCL_A(stat_slot));
}

double gan_loss_ref(double *dlogit, const double *logit, int n, gancl_loss_kind kind, double y,
                    double grad_scale) {
    double loss = 0;
    for (int i = 0; i < n; i++) {
        double l = logit[i], d;
        if (kind == GANCL_LOSS_KIND_BCE) {
            d = 1.0 / (1.0 + exp(-l)) - y;
            loss += fmax(l, 0.0) - y * l + log1p(exp(-fabs(l)));
        } else if (kind == GANCL_LOSS_KIND_LINEAR) {
            d = y;
            loss += y * l;
        } else {
            d = 1 + y * l > 0 ? y : 0;
            loss += fmax(0.0, 1 + y * l);
        }
        if (dlogit) dlogit[i] = d * grad_scale;
    }
    return loss / n;
}
