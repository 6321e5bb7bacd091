/* embed.cl: class embeddings, the conditional models' label input: concatenated to a layer's
 * input, or projected onto D's features (the projection discriminator). Labels are clamped to
 * [0, classes).
 * Concatenation: y[B, IN + E] = [x[B, IN], table[label_b, E]]. */
__kernel void embed_forward(__global float *y, const uint y_off, __global const float *x,
                            const uint x_off, __global const float *table, const uint t_off,
                            const int has_table, __global const int *labels, const uint l_off,
                            const int B, const int IN, const int E, const int classes) {
    const int i = get_global_id(0), F = IN + E;
    if (i >= B * F) return;
    const int b = i / F, c = i - b * F;
    float v = 0.0f;
    if (c < IN) v = x[x_off + b * IN + c];
    else if (has_table) v = table[t_off + clamp(labels[l_off + b], 0, classes - 1) * E + (c - IN)];
    y[y_off + i] = v;
}

/* dx[B, IN] = the first IN columns of dy. */
__kernel void embed_backward_input(__global float *dx, const uint dx_off, __global const float *dy,
                                   const uint dy_off, const int B, const int IN, const int E) {
    const int i = get_global_id(0);
    if (i >= B * IN) return;
    const int b = i / IN, c = i - b * IN;
    dx[dx_off + i] = dy[dy_off + b * (IN + E) + c];
}

/* dtable[k, e] += sum of dy[b, IN + e] over the rows b of class k: one item per (k, e), the
 * rows in order (no atomics, the same sum every run). */
__kernel void embed_backward_table(__global float *dt, const uint dt_off, __global const float *dy,
                                   const uint dy_off, __global const int *labels, const uint l_off,
                                   const int B, const int IN, const int E, const int classes) {
    const int i = get_global_id(0);
    if (i >= classes * E) return;
    const int k = i / E, e = i - k * E;
    float s = 0.0f;
    for (int b = 0; b < B; b++)
        if (clamp(labels[l_off + b], 0, classes - 1) == k) s += dy[dy_off + b * (IN + E) + IN + e];
    dt[dt_off + i] += s;
}

/* ---- the projection discriminator's output (Miyato & Koyama 2018) ----
 * y[B] = bias + sum_f (w[f] + table[label_b, f]) x[b, f]: a Linear(F, 1) on the features plus
 * the inner product of the label's embedding with them. One item per row; no bias when
 * has_bias is 0 (the gradient penalty's tangent pass). */
__kernel void projection_forward(__global float *y, const uint y_off, __global const float *x,
                                 const uint x_off, __global const float *w, const uint w_off,
                                 __global const float *bias, const uint b_off, const int has_bias,
                                 __global const float *table, const uint t_off,
                                 __global const int *labels, const uint l_off, const int B,
                                 const int F, const int classes) {
    const int b = get_global_id(0);
    if (b >= B) return;
    const int k = clamp(labels[l_off + b], 0, classes - 1);
    float s = 0.0f;
    for (int f = 0; f < F; f++) s += (w[w_off + f] + table[t_off + k * F + f]) * x[x_off + b * F + f];
    y[y_off + b] = s + (has_bias ? bias[b_off] : 0.0f);
}

/* dx[B, F] = dy[b] (w + table[label_b]). */
__kernel void projection_backward_input(__global float *dx, const uint dx_off, __global const float *dy,
                                        const uint dy_off, __global const float *w, const uint w_off,
                                        __global const float *table, const uint t_off,
                                        __global const int *labels, const uint l_off, const int B,
                                        const int F, const int classes) {
    const int i = get_global_id(0);
    if (i >= B * F) return;
    const int b = i / F, f = i - b * F, k = clamp(labels[l_off + b], 0, classes - 1);
    dx[dx_off + i] = dy[dy_off + b] * (w[w_off + f] + table[t_off + k * F + f]);
}

/* The parameter gradients, accumulated: item f < F: dw[f] += sum_b dy[b] x[b, f]; item
 * F (1 + k) + f: dtable[k, f] += the same sum over the rows of class k; item F (1 + classes):
 * dbias += sum_b dy[b] (when has_bias). Rows in order, no atomics. */
__kernel void projection_backward_params(__global float *dw, const uint dw_off, __global float *dbias,
                                         const uint db_off, const int has_bias, __global float *dt,
                                         const uint dt_off, __global const float *dy, const uint dy_off,
                                         __global const float *x, const uint x_off,
                                         __global const int *labels, const uint l_off, const int B,
                                         const int F, const int classes) {
    const int i = get_global_id(0);
    if (i > F * (1 + classes)) return;
    float s = 0.0f;
    if (i == F * (1 + classes)) {
        if (!has_bias) return;
        for (int b = 0; b < B; b++) s += dy[dy_off + b];
        dbias[db_off] += s;
        return;
    }
    const int k = i / F - 1, f = i - (i / F) * F;
    for (int b = 0; b < B; b++)
        if (k < 0 || clamp(labels[l_off + b], 0, classes - 1) == k) s += dy[dy_off + b] * x[x_off + b * F + f];
    if (k < 0) dw[dw_off + f] += s;
    else dt[dt_off + k * F + f] += s;
}
