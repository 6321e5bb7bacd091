/* loss.cl: binary cross-entropy on logits, computed stably, with its gradient.
 * loss_i = max(l, 0) - t * l + log(1 + exp(-|l|)),  dloss/dl = sigmoid(l) - t.
 * acc is a small device array of running sums the host reads now and then: work item 0 adds
 * weight * mean(loss) to acc[loss_slot] and, when prob_slot >= 0, mean(sigmoid(l)) to
 * acc[prob_slot]. n is small (a batch), so one item summing is cheap and deterministic. */

float stable_sigmoid(const float l) {
    if (l >= 0.0f) return 1.0f / (1.0f + exp(-l));
    const float e = exp(l);
    return e / (1.0f + e);
}

__kernel void bce_logits(__global float *dlogit, const uint dl_off, __global const float *logit,
                         const uint l_off, const int n, const float target,
                         const float grad_scale, __global float *acc, const int loss_slot,
                         const float weight, const int prob_slot) {
    const int i = get_global_id(0);
    if (i < n) dlogit[dl_off + i] = (stable_sigmoid(logit[l_off + i]) - target) * grad_scale;
    if (i != 0) return;
    float loss = 0.0f, prob = 0.0f;
    for (int k = 0; k < n; k++) {
        const float l = logit[l_off + k];
        loss += fmax(l, 0.0f) - target * l + log1p(exp(-fabs(l)));
        prob += stable_sigmoid(l);
    }
    acc[loss_slot] += weight * loss / n;
    if (prob_slot >= 0) acc[prob_slot] += prob / n;
}
