/* data.cl: gathering a batch of training images on the device.
 * images: the whole training set as uint8 [count, D]; perm: this epoch's order of indices.
 * out[b, k] = images[perm[perm_off + b], k] / 127.5 - 1, in [-1, 1], or with `unit` / 255, in
 * [0, 1] (the semi-supervised GAN's pixels). */
__kernel void gather_images(__global float *out, const uint out_off,
                            __global const uchar *images, __global const int *perm,
                            const uint perm_off, const int B, const int D, const int unit) {
    const int i = get_global_id(0);
    if (i >= B * D) return;
    const int b = i / D, k = i - b * D;
    const float v = images[(size_t)perm[perm_off + b] * D + k];
    out[out_off + i] = unit ? v / 255.0f : v / 127.5f - 1.0f;
}
