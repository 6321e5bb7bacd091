/* loss.c: the losses on D's outputs (cl/loss.cl): the GAN losses, softmax cross-entropy, the
 * semi-supervised GAN's K+1-class losses and feature matching; their C references. */
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

void kplus1_loss(const gancl_runtime *rt, gancl_ptr dlogit, gancl_ptr logit, int B, int K, float w_lse, float w_sp,
                 float grad_scale, cl_mem acc, int loss_slot, float weight, int stat_slot) {
    cl_kernel k = gancl_kernel(rt, "kplus1_loss");
    GANCL_LAUNCH_1D(rt, k, (size_t)B, GANCL_P(dlogit), GANCL_P(logit), GANCL_A(B), GANCL_A(K), GANCL_A(w_lse),
                    GANCL_A(w_sp), GANCL_A(grad_scale), GANCL_A(acc), GANCL_A(loss_slot), GANCL_A(weight),
                    GANCL_A(stat_slot));
}

static double lse_ref(const double *l, int K) {
    double m = l[0], s = 0;
    for (int k = 1; k < K; k++) m = fmax(m, l[k]);
    for (int k = 0; k < K; k++) s += exp(l[k] - m);
    return m + log(s);
}

double kplus1_loss_ref(double *dlogit, const double *logit, int B, int K, double w_lse, double w_sp,
                       double grad_scale, double *mean_d) {
    double loss = 0, stat = 0;
    for (int b = 0; b < B; b++) {
        const double *l = logit + (size_t)b * K, lse = lse_ref(l, K), d = 1 / (1 + exp(-lse));
        loss += w_lse * lse + w_sp * (fmax(lse, 0.0) + log1p(exp(-fabs(lse))));
        stat += d;
        if (dlogit)
            for (int k = 0; k < K; k++) dlogit[(size_t)b * K + k] = (w_lse + w_sp * d) * exp(l[k] - lse) * grad_scale;
    }
    if (mean_d) *mean_d = stat / B;
    return loss / B;
}

void feature_match(const gancl_runtime *rt, gancl_ptr dfake, gancl_ptr sq, gancl_ptr real, gancl_ptr fake, int B,
                   int F, float grad_scale) {
    cl_kernel k = gancl_kernel(rt, "feature_match");
    GANCL_LAUNCH_1D(rt, k, (size_t)F, GANCL_P(dfake), GANCL_P(sq), GANCL_P(real), GANCL_P(fake), GANCL_A(B),
                    GANCL_A(F), GANCL_A(grad_scale));
}

double feature_match_ref(double *dfake, const double *real, const double *fake, int B, int F, double grad_scale) {
    double loss = 0;
    for (int k = 0; k < F; k++) {
        double sr = 0, sf = 0;
        for (int b = 0; b < B; b++) {
            sr += real[(size_t)b * F + k];
            sf += fake[(size_t)b * F + k];
        }
        const double diff = (sf - sr) / B;
        loss += diff * diff;
        if (dfake)
            for (int b = 0; b < B; b++) dfake[(size_t)b * F + k] = 2 * diff / ((double)F * B) * grad_scale;
    }
    return loss / F;
}
