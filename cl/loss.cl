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
