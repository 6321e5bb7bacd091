/* layers.h: the building blocks of the networks, each a _forward/_backward pair that enqueues
 * device work (no host waits), plus a C reference in double for tests and the self-test.
 * Conventions (as in llm.c): outputs first, gradients prefixed d, parameter gradients are
 * accumulated (+=), activation gradients are written. Every tensor is a gancl_ptr: a buffer
 * and an element offset, so a whole network can live in one allocation.
 * Dimensions: B = batch rows, IN/OUT = features in/out, N = features. Row-major [B, N]. */
#ifndef GANCL_LAYERS_H
#define GANCL_LAYERS_H

#include "gancl/device.h"

#include <stdint.h>

typedef struct {
    cl_mem mem;
    size_t off; /* in elements */
} gancl_ptr;

static inline gancl_ptr gancl_at(gancl_ptr p, size_t elems) {
    p.off += elems;
    return p;
}

typedef enum {
    GANCL_ACT_NONE = 0, GANCL_ACT_LEAKY = 1, GANCL_ACT_TANH = 2, GANCL_ACT_RELU = 3,
    GANCL_ACT_SIGMOID = 4, GANCL_ACT_SOFTPLUS = 5
} gancl_act;

/* Features per work item of the per-feature kernels (LANES in cl/activation.cl), and the
 * number of such groups for N features. */
#define GANCL_LANES 8
#define GANCL_LANE_GROUPS(N) (((size_t)(N) + GANCL_LANES - 1) / GANCL_LANES)

/* ---- linear: out[B, OUT] = act(inp[B, IN] @ weight[OUT, IN]^T + bias[OUT]) ----
 * weight has PyTorch's nn.Linear layout; bias.mem may be NULL (no bias). */
void linear_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr weight,
                    gancl_ptr bias, int B, int IN, int OUT, gancl_act act, float slope);
/* The activation alone, in place: y[B, N] = act(y + bias) (bias.mem may be NULL). */
void bias_act_forward(const gancl_runtime *rt, gancl_ptr y, gancl_ptr bias, int B, int N,
                      gancl_act act, float slope);
/* The activation's backward alone: dout[B, N] *= act'(out); dbias[N] += its column sums
 * (dbias.mem may be NULL). */
void bias_act_backward(const gancl_runtime *rt, gancl_ptr dout, gancl_ptr out, gancl_ptr dbias,
                       int B, int N, gancl_act act, float slope);
/* dout[B, OUT] is overwritten with the gradient before the activation. dinp (written),
 * dweight and dbias (accumulated) may each have mem == NULL to skip them. */
void linear_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dweight, gancl_ptr dbias,
                     gancl_ptr dout, gancl_ptr out, gancl_ptr inp, gancl_ptr weight, int B,
                     int IN, int OUT, gancl_act act, float slope);

/* ---- batchnorm (per feature over the batch), fused with the bias and activation before it ----
 * Tensors are [B, N, S]: N features (channels) of S positions each (S = 1: BatchNorm1d,
 * S = H*W: BatchNorm2d on NCHW); the statistics of a feature are over its B*S values.
 * gb: gamma[N], beta[N]; saved: mean[N], invstd[N]; running: mean[N], var[N] (unbiased).
 * With a bias (bias.mem) or an activation, inp[B, N] holds the pre-activation h and is first
 * replaced in place by a = act(h + bias), BatchNorm's input. Training: batch statistics, saved
 * and running updated (running = (1-momentum)*running + momentum*batch); otherwise the running
 * statistics normalise. */
void batchnorm_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr bias,
                       gancl_ptr gb, gancl_ptr saved, gancl_ptr running, int B, int N, float eps,
                       float momentum, int training, gancl_act act, float slope, int S);
/* inp is BatchNorm's input a. dinp (may equal dout) is written: the gradient at a, times
 * act'(a) with an activation (the gradient at h); dgb and dbias (when dbias.mem) accumulated. */
void batchnorm_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dgb, gancl_ptr dbias,
                        gancl_ptr dout, gancl_ptr inp, gancl_ptr gb, gancl_ptr saved, int B, int N,
                        gancl_act act, float slope, int S);

/* ---- convolutions (NCHW) as im2col/col2im + one GEMM over the batch (cl/conv.cl) ----
 * A geometry describes a convolution from C x H x W with a K x K kernel, stride and padding to
 * OH x OW positions. A transposed convolution from Cin x h x w to C x H x W (stride s, padding
 * p, output padding op: H = (h - 1) s - 2p + K + op) is described by the geometry of its
 * adjoint convolution, from C x H x W back to h x w positions. col and tmp are scratch
 * buffers: col [C*K*K, B*OH*OW], tmp [max(OC or Cin, C) ..., B*OH*OW] floats. */
typedef struct {
    int C, H, W, K, stride, pad, OH, OW;
} gancl_conv_geom;

gancl_conv_geom gancl_conv_geom_make(int C, int H, int W, int K, int stride, int pad);
/* The geometry for a transposed convolution to C x H x W from h x w positions. */
gancl_conv_geom gancl_convt_geom_make(int C, int h, int w, int K, int stride, int pad, int out_pad);

/* out[B, OC, OH, OW] = conv(inp[B, C, H, W], weight[OC, C, K, K]) + bias[OC] (bias.mem may be
 * NULL). PyTorch's Conv2d layout. */
void conv2d_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr weight,
                    gancl_ptr bias, gancl_conv_geom g, int OC, int B, gancl_ptr col, gancl_ptr tmp);
/* dinp written, dweight and dbias accumulated; any may have mem == NULL. */
void conv2d_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dweight, gancl_ptr dbias,
                     gancl_ptr dout, gancl_ptr inp, gancl_ptr weight, gancl_conv_geom g, int OC,
                     int B, gancl_ptr col, gancl_ptr tmp);
/* out[B, C, H, W] = conv_transpose(inp[B, Cin, h, w], weight[Cin, C, K, K]) (PyTorch's
 * ConvTranspose2d layout, no bias); g from gancl_convt_geom_make. */
void convt2d_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr weight,
                     gancl_conv_geom g, int Cin, int B, gancl_ptr col, gancl_ptr tmp);
void convt2d_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dweight, gancl_ptr dout,
                      gancl_ptr inp, gancl_ptr weight, gancl_conv_geom g, int Cin, int B,
                      gancl_ptr col, gancl_ptr tmp);

/* ---- dropout: y[n] = x * keep / (1 - p) on elements first .. first + n - 1 of a tensor, the
 * mask from Philox (k0, k1; c1, c2) and the element's index, so calling it again with the same
 * stream applies the same mask (the backward pass). y may equal x. ---- */
void dropout_apply(const gancl_runtime *rt, gancl_ptr y, gancl_ptr x, size_t n, size_t first, float p,
                   uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2);

/* ---- GaussianNoise: y[n] = x + sigma * z on elements first .. first + n - 1 of a tensor, z a
 * standard normal from Philox (k0, k1; c1, c2) and the element's index (cl/rng.cl). y may
 * equal x. ---- */
void noise_apply(const gancl_runtime *rt, gancl_ptr y, gancl_ptr x, size_t n, size_t first, float sigma,
                 uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2);

/* ---- weight normalisation of a Linear layer (cl/weightnorm.cl) ----
 * weight[OUT, IN] = g[o] v[o, :] / ||v[o, :]||, norm[OUT] keeps the norms. The backward pass
 * turns dweight into dg[OUT] += sum dweight * v / ||v|| (unless dg.mem is NULL: g not
 * trained) and dv += g / ||v|| (dweight - (sum dweight * v) v / ||v||^2), both accumulated. */
void weightnorm_forward(const gancl_runtime *rt, gancl_ptr weight, gancl_ptr norm, gancl_ptr g, gancl_ptr v,
                        int OUT, int IN);
void weightnorm_backward(const gancl_runtime *rt, gancl_ptr dg, gancl_ptr dv, gancl_ptr dweight, gancl_ptr g,
                         gancl_ptr v, gancl_ptr norm, int OUT, int IN);

/* ---- a class embedding concatenated to the input (cl/embed.cl) ----
 * out[B, IN + E] = [inp[B, IN], table[labels[b], E]] (table.mem NULL: zeros there); labels are
 * cl_int, clamped to [0, classes). The backward pass writes dinp (when dinp.mem) and adds
 * each class's rows of dout into dtable[classes, E] (when dtable.mem). */
void embed_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr table, gancl_ptr labels,
                   int B, int IN, int E, int classes);
void embed_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dtable, gancl_ptr dout, gancl_ptr labels,
                    int B, int IN, int E, int classes);

/* ---- the projection discriminator's output (cl/embed.cl; Miyato & Koyama 2018) ----
 * out[B] = bias + (weight[F] + table[labels[b], F]) . inp[b, F] (bias.mem NULL: none). The
 * backward pass writes dinp [B, F] (when dinp.mem) and, when dweight.mem, accumulates dweight,
 * dtable [classes, F] and dbias (when dbias.mem); dinp may be inp. */
void projection_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr weight, gancl_ptr bias,
                        gancl_ptr table, gancl_ptr labels, int B, int F, int classes);
void projection_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dweight, gancl_ptr dbias,
                         gancl_ptr dtable, gancl_ptr dout, gancl_ptr inp, gancl_ptr weight, gancl_ptr table,
                         gancl_ptr labels, int B, int F, int classes);

/* ---- MaxPool2d, window and stride k, no padding (cl/pool.cl): out [B, C, H/k, W/k]; the
 * backward pass writes dinp [B, C, H, W]: dout at each window's first maximum, else 0 ---- */
void maxpool_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, int B, int C, int H, int W, int k);
void maxpool_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dout, gancl_ptr inp, int B, int C, int H,
                      int W, int k);

/* ---- softmax cross-entropy of logits [B, K] against cl_int labels (cl/loss.cl): dlogit =
 * (softmax - onehot) * grad_scale; acc[loss_slot] += mean loss, acc[correct_slot] += rows
 * whose arg max is the label (a slot < 0: not recorded) ---- */
void softmax_xent(const gancl_runtime *rt, gancl_ptr dlogit, gancl_ptr logit, gancl_ptr labels, int B, int K,
                  float grad_scale, cl_mem acc, int loss_slot, int correct_slot);

/* ---- the semi-supervised GAN's losses (cl/loss.cl; Salimans et al. 2016) ----
 * K + 1 classes through K logits [B, K] (the fake class's logit fixed at 0): per row, with
 * lse = logsumexp(l) and D(x) = sigmoid(lse), loss = w_lse lse + w_sp softplus(lse) and
 * dlogit = (w_lse + w_sp D(x)) softmax(l) grad_scale; acc[loss_slot] += weight * mean loss,
 * acc[stat_slot] += mean D(x). Feature matching: loss = mean_k (mean_b fake - mean_b real)^2
 * over F features of B rows; dfake [B, F] written (times grad_scale), sq [F] the squared
 * differences (gp_sum adds their mean). */
void kplus1_loss(const gancl_runtime *rt, gancl_ptr dlogit, gancl_ptr logit, int B, int K, float w_lse, float w_sp,
                 float grad_scale, cl_mem acc, int loss_slot, float weight, int stat_slot);
void feature_match(const gancl_runtime *rt, gancl_ptr dfake, gancl_ptr sq, gancl_ptr real, gancl_ptr fake, int B,
                   int F, float grad_scale);

/* ---- the GAN losses on D's outputs (cl/loss.cl) ----
 * BCE (on logits, target y), LINEAR (y * l: the Wasserstein losses), HINGE (max(0, 1 + y l)).
 * dlogit[n] = dloss/dl * grad_scale; acc[loss_slot] += weight * mean loss, acc[stat_slot] +=
 * mean D output (sigmoid for BCE, raw score otherwise); a slot < 0 is not recorded. */
typedef enum { GANCL_LOSS_KIND_BCE = 0, GANCL_LOSS_KIND_LINEAR = 1, GANCL_LOSS_KIND_HINGE = 2 } gancl_loss_kind;
void gan_loss_forward_backward(const gancl_runtime *rt, gancl_ptr dlogit, gancl_ptr logit, int n,
                               gancl_loss_kind kind, float y, float grad_scale, cl_mem acc,
                               int loss_slot, float weight, int stat_slot);

/* ---- optimisers over buf = params[n] | grads[n] | m[n] | v[n] (cl/optim.cl) ----
 * Adam with step number t from 1; RMSprop keeps its square average in v; clip clamps the
 * parameters to [-c, c]. */
void adam_update(const gancl_runtime *rt, cl_mem buf, size_t n, float lr, float beta1,
                 float beta2, float eps, long t);
void rmsprop_update(const gancl_runtime *rt, cl_mem buf, size_t n, float lr, float alpha, float eps);
void clip_params(const gancl_runtime *rt, cl_mem buf, size_t n, float c);
/* The gradient section of a network buffer [params | grads | m | v] (n each) <- 0. */
void zero_grads(const gancl_runtime *rt, cl_mem buf, size_t n);
/* avg [n] = decay avg + (1 - decay) x [n] (an exponential moving average). */
void ema_update(const gancl_runtime *rt, gancl_ptr avg, gancl_ptr x, size_t n, float decay);

/* ---- WGAN-GP pieces (cl/gp.cl) ----
 * xhat[B, I] = eps_b real + (1 - eps_b) fake, eps_b ~ U(0,1) from Philox (k0, k1; c1, c2).
 * gp_direction turns g[B, I] = grad_x D(xhat) into dGP/dg and sq[B] into (||g_b|| - 1)^2;
 * gp_sum adds lambda * mean(sq) to acc[slot]. */
void gp_interpolate(const gancl_runtime *rt, gancl_ptr xhat, gancl_ptr real, gancl_ptr fake,
                    int B, int I, uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2);
void gp_direction(const gancl_runtime *rt, gancl_ptr g, gancl_ptr sq, int B, int I, float lambda);
void gp_sum(const gancl_runtime *rt, cl_mem acc, int slot, gancl_ptr sq, int B, float lambda);

/* ---- random normals: out[n] from Philox4x32-10 under key (k0, k1), stream (c1, c2) ---- */
void randn_fill(const gancl_runtime *rt, gancl_ptr out, size_t n, uint32_t k0, uint32_t k1,
                uint32_t c1, uint32_t c2);
/* ---- uniforms in (0, 1): out[n], the same scheme (counter word 3 = 1) ---- */
void randu_fill(const gancl_runtime *rt, gancl_ptr out, size_t n, uint32_t k0, uint32_t k1,
                uint32_t c1, uint32_t c2);

/* ---- out[B, D] = images[perm[perm_off + b]] / 127.5 - 1 (images: uint8 [count, D]), or
 * with `unit` / 255 (pixels in [0, 1]) ---- */
void gather_images(const gancl_runtime *rt, gancl_ptr out, cl_mem images, cl_mem perm,
                   size_t perm_off, int B, int D, int unit);

/* ---- C references (double) ---- */
/* A label as the embedding kernels read it: clamped to [0, classes). */
static inline int gancl_label_clamp(int y, int classes) { return y < 0 ? 0 : y >= classes ? classes - 1 : y; }
/* The activations and their derivatives from the output, as the kernels define them. */
double gancl_act_ref(gancl_act act, double v, double slope);
double gancl_act_grad_ref(gancl_act act, double y, double slope);
void linear_forward_ref(double *out, const double *inp, const double *weight, const double *bias,
                        int B, int IN, int OUT, gancl_act act, double slope);
void linear_backward_ref(double *dinp, double *dweight, double *dbias, double *dout,
                         const double *out, const double *inp, const double *weight, int B,
                         int IN, int OUT, gancl_act act, double slope);
void batchnorm_forward_ref(double *out, double *saved, double *running, double *inp,
                           const double *bias, const double *gb, int B, int N, double eps,
                           double momentum, int training, gancl_act act, double slope, int S);
void batchnorm_backward_ref(double *dinp, double *dgb, double *dbias, const double *dout,
                            const double *inp, const double *gb, const double *saved, int B, int N,
                            gancl_act act, double slope, int S);
void conv2d_forward_ref(double *out, const double *inp, const double *weight, const double *bias,
                        gancl_conv_geom g, int OC, int B);
void conv2d_backward_ref(double *dinp, double *dweight, double *dbias, const double *dout,
                         const double *inp, const double *weight, gancl_conv_geom g, int OC, int B);
void convt2d_forward_ref(double *out, const double *inp, const double *weight, gancl_conv_geom g,
                         int Cin, int B);
void convt2d_backward_ref(double *dinp, double *dweight, const double *dout, const double *inp,
                          const double *weight, gancl_conv_geom g, int Cin, int B);
/* 1 where dropout_apply keeps element i, 0 where it drops it. */
int dropout_keep_ref(size_t i, float p, uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2);
double gan_loss_ref(double *dlogit, const double *logit, int n, gancl_loss_kind kind, double y,
                    double grad_scale);
void adam_ref(double *p, const double *g, double *m, double *v, size_t n, double lr,
              double beta1, double beta2, double eps, long t);
void ema_ref(double *avg, const double *x, size_t n, double decay);
void rmsprop_ref(double *p, const double *g, double *v, size_t n, double lr, double alpha, double eps);
/* eps_b of gp_interpolate for row b. */
double gp_eps_ref(int b, uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2);
/* u (in place over g) and the penalty value lambda * mean (||g_b|| - 1)^2 */
double gp_direction_ref(double *g, int B, int I, double lambda);
/* The normal noise_apply adds at element i, and weight norm and embedding in double. */
double noise_normal_ref(size_t i, uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2);
void weightnorm_forward_ref(double *weight, const double *g, const double *v, int OUT, int IN);
void weightnorm_backward_ref(double *dg, double *dv, const double *dweight, const double *g, const double *v,
                             int OUT, int IN);
/* NULL outputs are skipped; the gradients are accumulated, dinp written. */
void projection_forward_ref(double *out, const double *inp, const double *weight, const double *bias,
                            const double *table, const int *labels, int B, int F, int classes);
void projection_backward_ref(double *dinp, double *dweight, double *dbias, double *dtable, const double *dout,
                             const double *inp, const double *weight, const double *table, const int *labels,
                             int B, int F, int classes);
void maxpool_forward_ref(double *out, const double *inp, int B, int C, int H, int W, int k);
void maxpool_backward_ref(double *dinp, const double *dout, const double *inp, int B, int C, int H, int W, int k);
/* The mean loss; *correct rows predicted right. */
double softmax_xent_ref(double *dlogit, const double *logit, const int *labels, int B, int K, double grad_scale,
                        int *correct);
/* The mean loss (and *mean_d the mean D(x) unless NULL); dlogit written unless NULL. */
double kplus1_loss_ref(double *dlogit, const double *logit, int B, int K, double w_lse, double w_sp,
                       double grad_scale, double *mean_d);
/* The loss; dfake written unless NULL. */
double feature_match_ref(double *dfake, const double *real, const double *fake, int B, int F, double grad_scale);
void philox4x32_10_ref(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
void randn_ref(float *out, size_t n, uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2);
void randu_ref(float *out, size_t n, uint32_t k0, uint32_t k1, uint32_t c1, uint32_t c2);

#endif
