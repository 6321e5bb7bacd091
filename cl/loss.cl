/* loss.cl: the GAN losses on D's outputs l (logits or critic scores), with their gradients.
 *   GANCL_LOSS_BCE     target y: loss = max(l, 0) - y l + log(1 + exp(-|l|)), dl = sigmoid(l) - y
 *   GANCL_LOSS_LINEAR  loss = y l, dl = y                (Wasserstein critic and generator)
 *   GANCL_LOSS_HINGE   loss = max(0, 1 + y l), dl = y where 1 + y l > 0, else 0
 * dlogit = dl * grad_scale. acc is a small device array of running sums the host reads now and
 * then: work item 0 adds weight * mean(loss) to acc[loss_slot] (when loss_slot >= 0) and the
 * mean of D's output (sigmoid(l) for BCE, l otherwise) to acc[stat_slot] (when >= 0). n is a
 * batch, so one item summing is cheap and deterministic. */
#define LOSS_BCE 0
#define LOSS_LINEAR 1
#define LOSS_HINGE 2

float stable_sigmoid(const float l) {
    if (l >= 0.0f) return 1.0f / (1.0f + exp(-l));
    const float e = exp(l);
    return e / (1.0f + e);
}

float loss_value(const int kind, const float l, const float y) {
    if (kind == LOSS_BCE) return fmax(l, 0.0f) - y * l + log1p(exp(-fabs(l)));
    if (kind == LOSS_LINEAR) return y * l;
    return fmax(0.0f, 1.0f + y * l);
}

__kernel void gan_loss(__global float *dlogit, const uint dl_off, __global const float *logit,
                       const uint l_off, const int n, const int kind, const float y,
                       const float grad_scale, __global float *acc, const int loss_slot,
                       const float weight, const int stat_slot) {
    const int i = get_global_id(0);
    if (i < n) {
        const float l = logit[l_off + i];
        float d;
        if (kind == LOSS_BCE) d = stable_sigmoid(l) - y;
        else if (kind == LOSS_LINEAR) d = y;
        else d = 1.0f + y * l > 0.0f ? y : 0.0f;
        dlogit[dl_off + i] = d * grad_scale;
    }
    if (i != 0) return;
    float loss = 0.0f, stat = 0.0f;
    for (int k = 0; k < n; k++) {
        const float l = logit[l_off + k];
        loss += loss_value(kind, l, y);
        stat += kind == LOSS_BCE ? stable_sigmoid(l) : l;
    }
    if (loss_slot >= 0) acc[loss_slot] += weight * loss / n;
    if (stat_slot >= 0) acc[stat_slot] += stat / n;
}

/* Softmax cross-entropy of logits [B, K] against integer labels (clamped to [0, K)):
 * dlogit = (softmax(l) - onehot(y)) * grad_scale; work item 0 adds the mean loss
 * (logsumexp(l) - l_y) to acc[loss_slot] and the number of rows whose first maximal logit is
 * the label to acc[correct_slot] (slots < 0: not recorded). */
__kernel void softmax_xent(__global float *dlogit, const uint dl_off, __global const float *logit,
                           const uint l_off, __global const int *labels, const uint lab_off,
                           const int B, const int K, const float grad_scale, __global float *acc,
                           const int loss_slot, const int correct_slot) {
    const int b = get_global_id(0);
    if (b < B) {
        __global const float *l = logit + l_off + b * K;
        const int y = clamp(labels[lab_off + b], 0, K - 1);
        float m = l[0], s = 0.0f;
        for (int k = 1; k < K; k++) m = fmax(m, l[k]);
        for (int k = 0; k < K; k++) s += exp(l[k] - m);
        for (int k = 0; k < K; k++) dlogit[dl_off + b * K + k] = (exp(l[k] - m) / s - (k == y)) * grad_scale;
    }
    if (b != 0) return;
    float loss = 0.0f, correct = 0.0f;
    for (int r = 0; r < B; r++) {
        __global const float *l = logit + l_off + r * K;
        const int y = clamp(labels[lab_off + r], 0, K - 1);
        float m = l[0], s = 0.0f;
        int arg = 0;
        for (int k = 1; k < K; k++)
            if (l[k] > m) m = l[k], arg = k;
        for (int k = 0; k < K; k++) s += exp(l[k] - m);
        loss += m + log(s) - l[y];
        correct += arg == y;
    }
    if (loss_slot >= 0) acc[loss_slot] += loss / B;
    if (correct_slot >= 0) acc[correct_slot] += correct;
}

/* The semi-supervised GAN's losses with K + 1 classes through K logits (Salimans et al. 2016):
 * the fake class's logit is fixed at 0, so D(x) = Z / (Z + 1) = sigmoid(lse), Z = sum exp(l_k)
 * and lse = log Z. Per row: loss = w_lse lse + w_sp softplus(lse), and
 * dlogit_k = (w_lse + w_sp sigmoid(lse)) softmax(l)_k grad_scale. Real unlabelled rows take
 * w_lse = -1/2, w_sp = 1/2 (-log D(x) / 2); fakes w_lse = 0, w_sp = 1/2 (-log(1 - D) / 2).
 * Work item 0 adds weight * mean loss to acc[loss_slot] and the mean D(x) to acc[stat_slot]. */
float row_lse(__global const float *l, const int K) {
    float m = l[0], s = 0.0f;
    for (int k = 1; k < K; k++) m = fmax(m, l[k]);
    for (int k = 0; k < K; k++) s += exp(l[k] - m);
    return m + log(s);
}

float softplus_stable(const float x) { return fmax(x, 0.0f) + log1p(exp(-fabs(x))); }

__kernel void kplus1_loss(__global float *dlogit, const uint dl_off, __global const float *logit,
                          const uint l_off, const int B, const int K, const float w_lse,
                          const float w_sp, const float grad_scale, __global float *acc,
                          const int loss_slot, const float weight, const int stat_slot) {
    const int b = get_global_id(0);
    if (b < B) {
        __global const float *l = logit + l_off + b * K;
        const float lse = row_lse(l, K), c = (w_lse + w_sp * stable_sigmoid(lse)) * grad_scale;
        for (int k = 0; k < K; k++) dlogit[dl_off + b * K + k] = c * exp(l[k] - lse);
    }
    if (b != 0) return;
    float loss = 0.0f, stat = 0.0f;
    for (int r = 0; r < B; r++) {
        const float lse = row_lse(logit + l_off + r * K, K);
        loss += w_lse * lse + w_sp * softplus_stable(lse);
        stat += stable_sigmoid(lse);
    }
    if (loss_slot >= 0) acc[loss_slot] += weight * loss / B;
    if (stat_slot >= 0) acc[stat_slot] += stat / B;
}

/* Feature matching (Salimans et al. 2016): with mr, mf the means over the B rows of real
 * [B, F] and fake [B, F] features, loss = mean_k (mf_k - mr_k)^2. Work item k writes column k
 * of dfake [B, F] = 2 (mf_k - mr_k) / (F B) grad_scale and sq[k] = (mf_k - mr_k)^2 (the loss is
 * their mean, gp_sum's job). The real features get no gradient: G alone is trained on it. */
__kernel void feature_match(__global float *dfake, const uint df_off, __global float *sq,
                            const uint sq_off, __global const float *real, const uint r_off,
                            __global const float *fake, const uint f_off, const int B, const int F,
                            const float grad_scale) {
    const int k = get_global_id(0);
    if (k >= F) return;
    float sr = 0.0f, sf = 0.0f;
    for (int b = 0; b < B; b++) {
        sr += real[r_off + b * F + k];
        sf += fake[f_off + b * F + k];
    }
    const float diff = (sf - sr) / B, d = 2.0f * diff / ((float)F * B) * grad_scale;
    for (int b = 0; b < B; b++) dfake[df_off + b * F + k] = d;
    sq[sq_off + k] = diff * diff;
}
