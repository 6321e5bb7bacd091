/* weightnorm.cl: weight normalisation (Salimans & Kingma 2016) of a Linear layer, PyTorch's
 * weight_norm(dim=0): weight[o, :] = g[o] v[o, :] / ||v[o, :]||. One work item per output row;
 * OUT rows of IN weights, row-major. */
__kernel void weightnorm_forward(__global float *w, const uint w_off, __global float *norm,
                                 const uint n_off, __global const float *g, const uint g_off,
                                 __global const float *v, const uint v_off, const int OUT,
                                 const int IN) {
    const int o = get_global_id(0);
    if (o >= OUT) return;
    __global const float *vr = v + v_off + (size_t)o * IN;
    float s = 0.0f;
    for (int i = 0; i < IN; i++) s += vr[i] * vr[i];
    const float nr = sqrt(s), scale = g[g_off + o] / nr;
    norm[n_off + o] = nr;
    __global float *wr = w + w_off + (size_t)o * IN;
    for (int i = 0; i < IN; i++) wr[i] = scale * vr[i];
}

/* From dweight: dg[o] += s / ||v|| (when train_g), dv[o, :] += g / ||v|| (dweight - s v /
 * ||v||^2), with s = sum_i dweight[o, i] v[o, i]. */
__kernel void weightnorm_backward(__global float *dg, const uint dg_off, __global float *dv,
                                  const uint dv_off, __global const float *dw, const uint dw_off,
                                  __global const float *g, const uint g_off, __global const float *v,
                                  const uint v_off, __global const float *norm, const uint n_off,
                                  const int OUT, const int IN, const int train_g) {
    const int o = get_global_id(0);
    if (o >= OUT) return;
    __global const float *vr = v + v_off + (size_t)o * IN, *dr = dw + dw_off + (size_t)o * IN;
    float s = 0.0f;
    for (int i = 0; i < IN; i++) s += dr[i] * vr[i];
    const float nr = norm[n_off + o], c = g[g_off + o] / nr, k = s / (nr * nr);
    if (train_g) dg[dg_off + o] += s / nr;
    __global float *dvr = dv + dv_off + (size_t)o * IN;
    for (int i = 0; i < IN; i++) dvr[i] += c * (dr[i] - k * vr[i]);
}
