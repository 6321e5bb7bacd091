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

void softmax_xent(const gancl_runtime *rt, gancl_ptr dlogit, gancl_ptr logit, gancl_ptr labels, int B, int K,
                  float grad_scale, cl_mem acc, int loss_slot, int correct_slot) {
    cl_kernel k = gancl_kernel(rt, "softmax_xent");
    GANCL_LAUNCH_1D(rt, k, (size_t)B, GANCL_P(dlogit), GANCL_P(logit), GANCL_P(labels), GANCL_A(B), GANCL_A(K),
                    GANCL_A(grad_scale), GANCL_A(acc), GANCL_A(loss_slot), GANCL_A(correct_slot));
}

double softmax_xent_ref(double *dlogit, const double *logit, const int *labels, int B, int K, double grad_scale,
                        int *correct) {
    double loss = 0;
    *correct = 0;
    for (int b = 0; b < B; b++) {
        const double *l = logit + (size_t)b * K;
        const int y = labels[b] < 0 ? 0 : labels[b] >= K ? K - 1 : labels[b];
        double m = l[0], s = 0;
        int arg = 0;
        for (int k = 1; k < K; k++)
            if (l[k] > m) m = l[k], arg = k;
        for (int k = 0; k < K; k++) s += exp(l[k] - m);
        for (int k = 0; k < K; k++) dlogit[(size_t)b * K + k] = (exp(l[k] - m) / s - (k == y)) * grad_scale;
        loss += m + log(s) - l[y];
        *correct += arg == y;
    }
    return loss / B;
}
