/* conv.c: Conv2d and ConvTranspose2d (NCHW) through im2col/col2im and one GEMM over the whole
 * batch (cl/conv.cl; with a packing GEMM, the im2col matrix goes straight into its panels),
 * dropout, and their C references as direct loops.
 * Dimensions: B batch, C/OC/Cin channels, K kernel, P = OH*OW positions, CKK = C*K*K. */
#include "gancl/gemm.h"
#include "gancl/layers.h"

gancl_conv_geom gancl_conv_geom_make(int C, int H, int W, int K, int stride, int pad) {
    gancl_conv_geom g = {C, H, W, K, stride, pad, (H + 2 * pad - K) / stride + 1, (W + 2 * pad - K) / stride + 1};
    return g;
}

gancl_conv_geom gancl_convt_geom_make(int C, int h, int w, int K, int stride, int pad, int out_pad) {
    int H = (h - 1) * stride - 2 * pad + K + out_pad, W = (w - 1) * stride - 2 * pad + K + out_pad;
    gancl_conv_geom g = {C, H, W, K, stride, pad, h, w};
    return g;
}

/* col[CKK, B*P] <- patches of img[B, C, H, W] (to_col), or img <- col2im(col): per output
 * row (GPU-shaped) or, on CPUs, per channel plane of an image (the _planes kernels). */
static void col_image(const gancl_runtime *rt, int to_col, gancl_ptr col, gancl_ptr img,
                      gancl_conv_geom g, int B) {
    const int planes = !rt->gpu_shaped;
    cl_kernel k = gancl_kernel(rt, to_col ? (planes ? "im2col_planes" : "im2col")
                                          : (planes ? "col2im_planes" : "col2im"));
    gancl_ptr dst = to_col ? col : img, src = to_col ? img : col;
    gancl_set_args(k, (const gancl_karg[]){GANCL_P(dst), GANCL_P(src), GANCL_A(B), GANCL_A(g.C),
                                           GANCL_A(g.H), GANCL_A(g.W), GANCL_A(g.K), GANCL_A(g.stride),
                                           GANCL_A(g.pad), GANCL_A(g.OH), GANCL_A(g.OW)}, 13);
    if (planes) gancl_launch_items(rt, k, (size_t)B, (size_t)g.C);
    else /* one item per output row (c, kh, kw, b, oh), or per image row (b, c, ih) */
        gancl_launch_1d(rt, k, to_col ? (size_t)g.C * g.K * g.K * B * g.OH : (size_t)B * g.C * g.H);
}

/* How many of a batch's B images one step of a chunked product takes: as many as `per_image`
 * bytes each fit in rt->panel_chunk (at least 1), spread evenly over the steps. */
static int chunk_images(const gancl_runtime *rt, size_t per_image, int B) {
    const size_t fit = rt->panel_chunk / per_image, most = fit ? fit : 1;
    if (most >= (size_t)B) return B;
    const size_t steps = ((size_t)B + most - 1) / most;
    return (int)(((size_t)B + steps - 1) / steps);
}

/* C = alpha op(A) op(col) + beta C by a panel method m, which packs op(B): im2col_pack writes
 * op(B)'s panels straight from the image, and col is never written. It goes a chunk of images at
 * a time, so that the GEMM reads each chunk's panels while they are still in the cache (whole,
 * the DCGAN's reached 160 MB, which went out to memory and back): a chunk is a block of columns
 * of C when op(B) = col (tb = 0), and a block of k, added into C, when op(B) = col^T (tb = 1,
 * the weight gradients). */
static void gemm_col_packed(const gancl_runtime *rt, gancl_gemm_method m, int ta, int tb, size_t M, size_t N,
                            size_t K, float alpha, gancl_ptr A, gancl_ptr img, gancl_conv_geom g, int B, float beta,
                            gancl_ptr C) {
    const size_t P = (size_t)g.OH * g.OW, image = (size_t)g.C * g.H * g.W;
    const int nb = chunk_images(rt, (tb ? N : K) * P * sizeof(float), B);
    size_t b_off;
    int width;
    cl_mem s = gancl_gemm_panels_begin(rt, m, ta, M, K, A.mem, A.off, tb ? N : nb * P, tb ? nb * P : K, &b_off, &width);
    if (width > 32 || width % 16) gancl_die("im2col_pack takes panels of 16 or 32 columns, not %d", width);
    const gancl_gemm_shape whole = {ta, tb, M, N, K, 1};
    cl_kernel k = gancl_kernel(rt, "im2col_pack");
    for (int b0 = 0; b0 < B; b0 += nb) {
        const size_t pos = (size_t)(B - b0 < nb ? B - b0 : nb) * P; /* the chunk's positions */
        const size_t n = tb ? N : pos, kd = tb ? pos : K;          /* its op(B): kd x n */
        gancl_set_args(k, (const gancl_karg[]){GANCL_A(s), GANCL_V(cl_uint, b_off), GANCL_A(img.mem),
                                               GANCL_V(cl_uint, img.off + b0 * image), GANCL_V(cl_int, n),
                                               GANCL_V(cl_int, kd), GANCL_A(tb), GANCL_A(width), GANCL_A(g.C),
                                               GANCL_A(g.H), GANCL_A(g.W), GANCL_A(g.K), GANCL_A(g.stride),
                                               GANCL_A(g.pad), GANCL_A(g.OH), GANCL_A(g.OW)}, 16);
        gancl_launch_items(rt, k, (kd + 63) / 64, (n + (size_t)width - 1) / (size_t)width);
        if (tb) /* steps b0 P .. of k, added into C after the first chunk */
            gancl_gemm_panels_run(rt, m, &whole, N, b0 * P, kd, alpha, A.mem, A.off, b0 ? 1.0f : beta, C.mem, C.off, N);
        else /* columns b0 P .. of C */
            gancl_gemm_panels_run(rt, m, &whole, n, 0, K, alpha, A.mem, A.off, beta, C.mem, C.off + b0 * P, N);
    }
}

/* C[M, N] = alpha op(A) op(col) + beta C, where col = im2col(img) [CKK, B*P] and op(B) is col
 * (tb = 0) or col^T (tb = 1): by gemm_col_packed when the GEMM's method packs its operands;
 * otherwise col is filled first, unless *col_ready says it already holds im2col(img) (set here
 * once it does). */
static void gemm_col(const gancl_runtime *rt, int ta, int tb, size_t M, size_t N, size_t K, float alpha,
                     gancl_ptr A, gancl_ptr img, gancl_conv_geom g, int B, gancl_ptr col, int *col_ready,
                     float beta, gancl_ptr C) {
    const gancl_gemm_method m = gancl_gemm_method_with_panels(gancl_gemm_choose(rt, ta, tb, M, N, K));
    if (gancl_gemm_method_packs(m) && !rt->shape_log) {
        gemm_col_packed(rt, m, ta, tb, M, N, K, alpha, A, img, g, B, beta, C);
        return;
    }
    if (!*col_ready) col_image(rt, 1, col, img, g, B);
    *col_ready = 1;
    gancl_gemm_with(rt, m, ta, tb, M, N, K, alpha, A.mem, A.off, col.mem, col.off, beta, C.mem, C.off);
}

/* dst[C, B*S] <- src[B, C, S] (to_cbs), or dst[B, C, S] <- src[C, B*S] + bias[c]. */
static void permute(const gancl_runtime *rt, gancl_ptr dst, gancl_ptr src, int B, int C, int S,
                    int to_cbs, gancl_ptr bias) {
    cl_kernel k = gancl_kernel(rt, "permute_cbs");
    gancl_ptr b = bias.mem ? bias : src;
    GANCL_LAUNCH_1D(rt, k, (size_t)B * C, GANCL_P(dst), GANCL_P(src), GANCL_A(B), GANCL_A(C),
                    GANCL_A(S), GANCL_A(to_cbs), GANCL_P(b), GANCL_V(cl_int, bias.mem != NULL));
}

static const gancl_ptr NONE = {NULL, 0};

/* img[B, C, H, W] = col2im(W^T @ x), x[B, X, P] in NCHW and W[X, CKK]: a transposed
 * convolution's forward pass, and a convolution's input gradient. It goes a chunk of images at a
 * time: tmp[X, n P] = the chunk of x, col[CKK, n P] = W^T @ tmp, then its n images of img, so
 * that col2im reads each chunk of col while it is still in the cache. x_in_tmp: tmp already
 * holds the whole of x that way, [X, B P] (used when one chunk takes the batch). */
static void col2im_product(const gancl_runtime *rt, gancl_ptr img, gancl_ptr x, gancl_ptr weight,
                           gancl_conv_geom g, int X, int B, gancl_ptr col, gancl_ptr tmp, int x_in_tmp) {
    const size_t CKK = (size_t)g.C * g.K * g.K, P = (size_t)g.OH * g.OW;
    const int nb = chunk_images(rt, CKK * P * sizeof(float), B);
    for (int b0 = 0; b0 < B; b0 += nb) {
        const int n = B - b0 < nb ? B - b0 : nb;
        if (!(x_in_tmp && n == B)) permute(rt, tmp, gancl_at(x, (size_t)b0 * X * P), n, X, (int)P, 1, NONE);
        gancl_gemm(rt, 1, 0, CKK, (size_t)n * P, (size_t)X, 1.0f, weight.mem, weight.off, tmp.mem, tmp.off, 0.0f,
                   col.mem, col.off);
        col_image(rt, 0, col, gancl_at(img, (size_t)b0 * g.C * g.H * g.W), g, n);
    }
}

void conv2d_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr weight,
                    gancl_ptr bias, gancl_conv_geom g, int OC, int B, gancl_ptr col, gancl_ptr tmp) {
    const size_t CKK = (size_t)g.C * g.K * g.K, BP = (size_t)B * g.OH * g.OW;
    int col_ready = 0; // tmp[OC, B*P] = W[OC, CKK] @ col, col[CKK, B*P] = im2col(inp)
    gemm_col(rt, 0, 0, (size_t)OC, BP, CKK, 1.0f, weight, inp, g, B, col, &col_ready, 0.0f, tmp);
    permute(rt, out, tmp, B, OC, g.OH * g.OW, 0, bias); // out[B, OC, P] = tmp + bias
}

void conv2d_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dweight, gancl_ptr dbias,
                     gancl_ptr dout, gancl_ptr inp, gancl_ptr weight, gancl_conv_geom g, int OC,
                     int B, gancl_ptr col, gancl_ptr tmp) {
    const size_t CKK = (size_t)g.C * g.K * g.K, BP = (size_t)B * g.OH * g.OW;
    const int cbs = dbias.mem || dweight.mem;
    if (cbs) permute(rt, tmp, dout, B, OC, g.OH * g.OW, 1, NONE); // tmp[OC, B*P] = dout
    if (dbias.mem) {
        GANCL_LAUNCH_REDUCTION(rt, "row_sums", (size_t)OC, 1, // dbias[OC] += row sums
                               GANCL_P(dbias), GANCL_P(tmp), GANCL_A(OC), GANCL_V(cl_int, BP));
    }
    if (dweight.mem) { // dW[OC, CKK] += tmp @ col^T
        int col_ready = 0;
        gemm_col(rt, 0, 1, (size_t)OC, CKK, BP, 1.0f, tmp, inp, g, B, col, &col_ready, 1.0f, dweight);
    }
    if (dinp.mem) col2im_product(rt, dinp, dout, weight, g, OC, B, col, tmp, cbs); // dinp = col2im(W^T @ dout)
}

void convt2d_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr weight,
                     gancl_conv_geom g, int Cin, int B, gancl_ptr col, gancl_ptr tmp) {
    col2im_product(rt, out, inp, weight, g, Cin, B, col, tmp, 0);
}

void convt2d_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dweight, gancl_ptr dout,
                      gancl_ptr inp, gancl_ptr weight, gancl_conv_geom g, int Cin, int B,
                      gancl_ptr col, gancl_ptr tmp) {
    const size_t CKK = (size_t)g.C * g.K * g.K, BP = (size_t)B * g.OH * g.OW;
    int col_ready = 0;                                    // col[CKK, B*p] = im2col(dout)
    if (dweight.mem) {                                    // dW[Cin, CKK] += inp_cbs @ col^T
        permute(rt, tmp, inp, B, Cin, g.OH * g.OW, 1, NONE);
        gemm_col(rt, 0, 1, (size_t)Cin, CKK, BP, 1.0f, tmp, dout, g, B, col, &col_ready, 1.0f, dweight);
    }
    if (dinp.mem) {                                       // dinp = W[Cin, CKK] @ col, to NCHW
        gemm_col(rt, 0, 0, (size_t)Cin, BP, CKK, 1.0f, weight, dout, g, B, col, &col_ready, 0.0f, tmp);
        permute(rt, dinp, tmp, B, Cin, g.OH * g.OW, 0, NONE);
    }
}

void dropout_apply(const gancl_runtime *rt, gancl_ptr y, gancl_ptr x, size_t n, size_t first, float p,
                   uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2) {
    cl_kernel k = gancl_kernel(rt, "dropout");
    size_t blocks = (first + n + 3) / 4 - first / 4; /* of 4 elements, 8 per work item */
    GANCL_LAUNCH_1D(rt, k, (blocks + 7) / 8, GANCL_P(y), GANCL_P(x), GANCL_V(cl_uint, n), GANCL_V(cl_uint, first),
                    GANCL_A(p), GANCL_A(k0), GANCL_A(k1), GANCL_A(c1), GANCL_A(c2));
}

/* ---- C references: direct loops ---- */

#define IMG(t, b, c, h, w, C, H, W) t[(((size_t)(b) * (C) + (c)) * (H) + (h)) * (W) + (w)]

void conv2d_forward_ref(double *out, const double *inp, const double *weight, const double *bias,
                        gancl_conv_geom g, int OC, int B) {
    const int K = g.K;
    for (int b = 0; b < B; b++)
        for (int o = 0; o < OC; o++)
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++) {
                    double s = bias ? bias[o] : 0;
                    for (int c = 0; c < g.C; c++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++) {
                                int ih = oh * g.stride - g.pad + kh, iw = ow * g.stride - g.pad + kw;
                                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                                s += IMG(inp, b, c, ih, iw, g.C, g.H, g.W) * weight[((o * g.C + c) * K + kh) * K + kw];
                            }
                    IMG(out, b, o, oh, ow, OC, g.OH, g.OW) = s;
                }
}

void conv2d_backward_ref(double *dinp, double *dweight, double *dbias, const double *dout,
                         const double *inp, const double *weight, gancl_conv_geom g, int OC, int B) {
    const int K = g.K;
    if (dinp)
        for (size_t i = 0; i < (size_t)B * g.C * g.H * g.W; i++) dinp[i] = 0;
    for (int b = 0; b < B; b++)
        for (int o = 0; o < OC; o++)
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++) {
                    double d = IMG(dout, b, o, oh, ow, OC, g.OH, g.OW);
                    if (dbias) dbias[o] += d;
                    for (int c = 0; c < g.C; c++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++) {
                                int ih = oh * g.stride - g.pad + kh, iw = ow * g.stride - g.pad + kw;
                                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                                size_t wi = ((size_t)(o * g.C + c) * K + kh) * K + kw;
                                if (dweight) dweight[wi] += d * IMG(inp, b, c, ih, iw, g.C, g.H, g.W);
                                if (dinp) IMG(dinp, b, c, ih, iw, g.C, g.H, g.W) += d * weight[wi];
                            }
                }
}

/* The transposed convolution scatters each input pixel through the kernel: the adjoint of g. */
void convt2d_forward_ref(double *out, const double *inp, const double *weight, gancl_conv_geom g,
                         int Cin, int B) {
    const int K = g.K;
    for (size_t i = 0; i < (size_t)B * g.C * g.H * g.W; i++) out[i] = 0;
    for (int b = 0; b < B; b++)
        for (int ci = 0; ci < Cin; ci++)
            for (int h = 0; h < g.OH; h++)
                for (int w = 0; w < g.OW; w++) {
                    double x = IMG(inp, b, ci, h, w, Cin, g.OH, g.OW);
                    for (int c = 0; c < g.C; c++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++) {
                                int oh = h * g.stride - g.pad + kh, ow = w * g.stride - g.pad + kw;
                                if (oh < 0 || oh >= g.H || ow < 0 || ow >= g.W) continue;
                                IMG(out, b, c, oh, ow, g.C, g.H, g.W) += x * weight[((ci * g.C + c) * K + kh) * K + kw];
                            }
                }
}

void convt2d_backward_ref(double *dinp, double *dweight, const double *dout, const double *inp,
                          const double *weight, gancl_conv_geom g, int Cin, int B) {
    const int K = g.K;
    for (int b = 0; b < B; b++)
        for (int ci = 0; ci < Cin; ci++)
            for (int h = 0; h < g.OH; h++)
                for (int w = 0; w < g.OW; w++) {
                    double x = IMG(inp, b, ci, h, w, Cin, g.OH, g.OW), d = 0;
                    for (int c = 0; c < g.C; c++)
                        for (int kh = 0; kh < K; kh++)
                            for (int kw = 0; kw < K; kw++) {
                                int oh = h * g.stride - g.pad + kh, ow = w * g.stride - g.pad + kw;
                                if (oh < 0 || oh >= g.H || ow < 0 || ow >= g.W) continue;
                                size_t wi = ((size_t)(ci * g.C + c) * K + kh) * K + kw;
                                double dy = IMG(dout, b, c, oh, ow, g.C, g.H, g.W);
                                d += dy * weight[wi];
                                if (dweight) dweight[wi] += dy * x;
                            }
                    if (dinp) IMG(dinp, b, ci, h, w, Cin, g.OH, g.OW) = d;
                }
}

int dropout_keep_ref(size_t i, float p, uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2) {
    uint32_t ctr[4] = {(uint32_t)(i / 4), c1, c2, 2}, key[2] = {k0, k1}, r[4];
    philox4x32_10_ref(ctr, key, r);
    float u = ((float)(r[i % 4] >> 8) + 0.5f) * (1.0f / 16777216.0f);
    return u > p;
}
