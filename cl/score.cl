/* score.cl: the k-nearest-neighbour steps of precision and recall (Kynkaanniemi et al. 2019,
 * k = 3) on feature vectors. Both kernels read gt [R, Q], the dot products of R reference
 * vectors with Q query vectors, column q belonging to query q (neighbouring work items read
 * neighbouring addresses), and the squared norms qn [Q] and rn [R]. The squared distance is
 * d(q, r) = max(qn[q] + rn[r] - 2 gt[r, q], 0). */

/* radius[q] = the 4th smallest d(q, r) over all r: with the query set as its own references
 * (its own distance, 0, comes first) the squared distance to its 3rd nearest neighbour. The
 * four smallest stay in registers, sorted (b0 <= b1 <= b2 <= b3). */
__kernel void knn_radius(__global float *radius, const uint radius_off, __global const float *gt,
                         const uint gt_off, __global const float *qn, const uint qn_off,
                         __global const float *rn, const uint rn_off, const int Q, const int R) {
    const int q = get_global_id(0);
    if (q >= Q) return;
    const float a = qn[qn_off + q];
    float b0 = INFINITY, b1 = INFINITY, b2 = INFINITY, b3 = INFINITY;
    for (int r = 0; r < R; r++) {
        const float d = fmax(a + rn[rn_off + r] - 2.0f * gt[gt_off + (size_t)r * Q + q], 0.0f);
        if (d < b3) { /* insert d: it replaces b3, then sinks to its place */
            b3 = fmax(b2, d);
            const float t2 = fmin(b2, d);
            b2 = fmax(b1, t2);
            const float t1 = fmin(b1, t2);
            b1 = fmax(b0, t1);
            b0 = fmin(b0, t1);
        }
    }
    radius[radius_off + q] = b3;
}

/* inside[q] = 1 when some reference r has d(q, r) <= radius[r] (query q lies inside the
 * references' manifold), else 0. */
__kernel void knn_inside(__global int *inside, const uint inside_off, __global const float *gt,
                         const uint gt_off, __global const float *qn, const uint qn_off,
                         __global const float *rn, const uint rn_off, __global const float *radius,
                         const uint radius_off, const int Q, const int R) {
    const int q = get_global_id(0);
    if (q >= Q) return;
    const float a = qn[qn_off + q];
    int found = 0;
    for (int r = 0; r < R && !found; r++)
        found = fmax(a + rn[rn_off + r] - 2.0f * gt[gt_off + (size_t)r * Q + q], 0.0f) <= radius[radius_off + r];
    inside[inside_off + q] = found;
}
