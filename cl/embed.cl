/* embed.cl: a class embedding concatenated to a layer's input (conditional models).
 * y[B, IN + E] = [x[B, IN], table[label_b, E]]; labels clamped to [0, classes). */
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
