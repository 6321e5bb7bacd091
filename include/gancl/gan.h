/* gan.h: the GANs on the device: parameters, activations, forward/backward of the generator
 * G and discriminator D, and the training steps. Two models:
 *
 * mlp (gan.c), the classic MNIST GAN:
 *   G: z[Z] -> Linear 256 -> LeakyReLU -> BatchNorm -> Linear 512 -> LeakyReLU -> BatchNorm
 *           -> Linear 1024 -> LeakyReLU -> BatchNorm -> Linear 784 -> tanh
 *   D: x[784] -> Linear 512 -> LeakyReLU -> Linear 256 -> LeakyReLU -> Linear 1 (a logit)
 * dcgan (dcgan.c), the TensorFlow DCGAN tutorial's (channels c0, c1, c2 = 256, 128, 64):
 *   G: z -> Linear c0*7*7 (no bias) -> BatchNorm -> LeakyReLU -> c0 x 7 x 7
 *        -> ConvTranspose 5x5 s1 -> c1 x 7 x 7 -> BatchNorm2d -> LeakyReLU
 *        -> ConvTranspose 5x5 s2 -> c2 x 14 x 14 -> BatchNorm2d -> LeakyReLU
 *        -> ConvTranspose 5x5 s2 -> 1 x 28 x 28 -> tanh          (no biases, padding 2)
 *   D: x -> Conv 5x5 s2 -> 64 x 14 x 14 -> LeakyReLU -> Dropout
 *        -> Conv 5x5 s2 -> 128 x 7 x 7 -> LeakyReLU -> Dropout -> Linear 1 (a logit)
 *
 * Each network's parameters live in one buffer laid out params[P] | grads[P] | m[P] | v[P]
 * (Adam's moments), so zeroing gradients is one fill and Adam is one launch. D's activations
 * have 2B rows: the real batch in rows [0, B), the fakes in rows [B, 2B); one forward pass over
 * all 2B rows in the G step serves both steps (D does not change in between), and the D step's
 * backward covers all 2B rows at once. */
#ifndef GANCL_GAN_H
#define GANCL_GAN_H

#include "gancl/layers.h"

typedef enum { GANCL_MODEL_MLP, GANCL_MODEL_DCGAN } gancl_model;

typedef struct {
    gancl_model model;
    int latent;      /* Z */
    int image;       /* pixels per image, 784 (28 x 28) */
    int g_hidden[3]; /* mlp: widths 256, 512, 1024; dcgan: channels 256, 128, 64 */
    int d_hidden[2]; /* mlp: widths 512, 256; dcgan: channels 64, 128 */
    float slope;     /* LeakyReLU negative slope: mlp 0.2, dcgan 0.3 (TensorFlow's default) */
    float bn_eps;    /* 1e-3 (Keras) */
    float bn_momentum; /* weight of the batch statistics in the running ones: mlp 0.2 (Keras
                          momentum 0.8, as Keras-GAN), dcgan 0.01 (Keras' default 0.99) */
    float dropout;   /* dcgan's D: 0.3 */
} gancl_gan_dims;

/* The defaults above with latent size Z. */
gancl_gan_dims gancl_gan_default_dims(int latent);
gancl_gan_dims gancl_gan_dcgan_dims(int latent);
const char *gancl_model_name(gancl_model model);

#define GANCL_MAX_TENSORS 32

/* One named tensor inside a flat buffer (checkpoint names follow PyTorch's state_dict). */
typedef struct {
    char name[64];
    int ndim;
    int shape[4];
    size_t off;   /* elements from the start of its buffer */
    size_t numel;
    float init_bound; /* PyTorch's default initialisation: U(-bound, bound) when > 0, */
    float init_value; /* else this constant (BatchNorm gamma 1, beta 0, running var 1) */
} gancl_tensor_info;

/* A network's parameter table. */
typedef struct {
    gancl_tensor_info t[GANCL_MAX_TENSORS];
    int n;
    size_t size; /* P: parameters in total */
} gancl_param_table;

/* Slots of the device accumulator of logged statistics: sums over the D steps (D loss, mean D
 * output on real and fake images, gradient penalty) and over the G steps (G loss). */
enum { GANCL_ACC_D_LOSS, GANCL_ACC_G_LOSS, GANCL_ACC_D_REAL, GANCL_ACC_D_FAKE, GANCL_ACC_GP, GANCL_ACC_N };

typedef enum { GANCL_LOSS_BCE, GANCL_LOSS_WGAN, GANCL_LOSS_WGAN_GP, GANCL_LOSS_HINGE } gancl_loss;
typedef enum { GANCL_OPT_ADAM, GANCL_OPT_RMSPROP } gancl_optimizer;

/* How a training iteration optimises. */
typedef struct gancl_step_config {
    gancl_loss loss;
    gancl_optimizer optimizer;
    float lr_g, lr_d;
    float beta1, beta2, eps; /* Adam */
    float alpha;             /* RMSprop's smoothing constant (0.99) */
    float clip;              /* wgan: the critic's parameters are clamped to +-clip after its step */
    float gp_weight;         /* wgan-gp: lambda */
    int n_critic;            /* D (critic) steps per G step */
} gancl_step_config;

/* The defaults of each loss: bce and hinge: Adam 2e-4, betas (0.5, 0.999), 1 D step per G step;
 * wgan: RMSprop 5e-5, clip 0.01, 5 critic steps; wgan-gp: Adam 1e-4, betas (0.5, 0.9),
 * lambda 10, 5 critic steps. */
gancl_step_config gancl_step_defaults(gancl_loss loss);
const char *gancl_loss_name(gancl_loss loss);
const char *gancl_optimizer_name(gancl_optimizer opt);

typedef struct gancl_gan {
    const gancl_runtime *rt;
    gancl_gan_dims dims;
    int batch;     /* B: training batch */
    int d_rows;    /* rows of D's activations: 2B, or 3B with the gradient penalty (interpolates) */
    int g_rows;    /* rows of G's activations: max(B, generation chunk) */
    gancl_param_table g, d;
    gancl_param_table g_running; /* BatchNorm running mean/var, in `running` */
    cl_mem g_buf;   /* G: params | grads | m | v, 4 * g.size floats */
    cl_mem d_buf;   /* D: the same for D */
    cl_mem running; /* G's BatchNorm running statistics, g_running.size floats */
    cl_mem acts;    /* every activation and activation gradient (offsets below) */
    cl_mem acc;     /* GANCL_ACC_N floats of logged sums */
    long g_step, d_step; /* optimiser steps taken */
    /* activation offsets in `acts` (elements); F = g_feat[i] or d_feat[i] features per sample */
    size_t z;          /* [g_rows, Z] */
    size_t g_a[3];     /* mlp: LeakyReLU outputs (BatchNorm inputs) [g_rows, F];
                          dcgan: BatchNorm + LeakyReLU outputs, the next layer's inputs */
    size_t g_x[3];     /* mlp: BatchNorm outputs, the next layer's inputs [g_rows, F];
                          dcgan: the layer's outputs before BatchNorm */
    size_t g_saved[3]; /* batch mean, invstd [2 * bn_feat[i]] */
    size_t g_out;      /* generated images when not training [g_rows, image] */
    size_t g_d[3];     /* G's activation gradients [B, F] */
    size_t d_x;        /* D's input [d_rows, image]: real rows, fake rows, (interpolates) */
    size_t d_h[2];     /* D's hidden outputs [d_rows, F] (dcgan: after LeakyReLU and dropout) */
    size_t d_logit;    /* [d_rows] */
    size_t d_dx;       /* D's input gradient for the fakes or interpolates [B, image] */
    size_t d_dh[2];    /* [d_rows, F] */
    size_t d_dlogit;   /* [d_rows] */
    size_t d_tan[2];   /* gradient penalty: tangents, then their gradients [B, F] */
    size_t gp_sq;      /* gradient penalty: (||grad|| - 1)^2 per sample [B] */
    int g_feat[3], d_feat[2];    /* features per sample of G's hidden layers and D's (mlp: the
                                    widths; dcgan: c0*49, c1*49, c2*196; 64*196, 128*49) */
    int bn_feat[3];              /* BatchNorm features of G's layers (dcgan: c0*49, c1, c2) */
    size_t col, tmp;             /* dcgan: im2col and permute scratch */
    uint64_t noise_seed;         /* dcgan: dropout masks come from Philox (seed, step, stream) */
    long noise_step;
    int noise_stream;
    size_t acts_size;
} gancl_gan;

/* The model's own pieces (dcgan.c): tables, activations, forward and backward passes. */
void dcgan_build_tables(gancl_gan *gan);
/* Sets g_feat, d_feat, bn_feat and the scratch sizes the convolutions need. */
void dcgan_sizes(gancl_gan *gan, size_t *col, size_t *tmp);
void dcgan_generator_forward(gancl_gan *gan, gancl_ptr out, int n, int training);
void dcgan_generator_backward(gancl_gan *gan, gancl_ptr dout, gancl_ptr out);
void dcgan_discriminator_forward(gancl_gan *gan, int row0, int n);
void dcgan_discriminator_backward(gancl_gan *gan, int row0, int n, int dweights, int dinput);
void dcgan_discriminator_gp_backward(gancl_gan *gan, int row0);
/* Table helper shared by both models: a tensor of shape [d0, d1, d2, d3] (trailing zeros for
 * fewer dimensions) initialised U(+-bound) (bound > 0) or to `value`. */
void gancl_table_add(gancl_param_table *t, const char *name, int d0, int d1, int d2, int d3,
                     float bound, float value);

/* Allocates everything for training batch B (generation up to g_rows rows at once); `gp`
 * adds room for the gradient penalty. */
void gancl_gan_init(gancl_gan *gan, const gancl_runtime *rt, gancl_gan_dims dims, int batch,
                    int g_rows, int gp);
void gancl_gan_free(gancl_gan *gan);
/* Bytes of device memory the model's buffers take. */
size_t gancl_gan_device_bytes(const gancl_gan *gan);
/* PyTorch's default initialisation (U(+-1/sqrt(fan_in)) for Linear weights and biases,
 * gamma 1, beta 0, running mean 0, var 1) from a host RNG seeded with `seed`; Adam reset. */
void gancl_gan_init_params(gancl_gan *gan, uint64_t seed);

/* A pointer into a buffer. */
gancl_ptr gancl_gan_act(const gancl_gan *gan, size_t off);
/* Parameters (and, with `which` = 1, 2, 3: grads, m, v) of a network buffer. */
gancl_ptr gancl_gan_param(cl_mem buf, const gancl_param_table *t, int index, int which);

/* G on rows [0, n) of z into `out` ([n, image]); training uses and updates batch statistics. */
void gan_generator_forward(gancl_gan *gan, gancl_ptr out, int n, int training);
/* G's parameter gradients from dout [B, image] (overwritten); out is G's output. */
void gan_generator_backward(gancl_gan *gan, gancl_ptr dout, gancl_ptr out);
/* D's forward on rows [row0, row0 + n) of d_x. */
void gan_discriminator_forward(gancl_gan *gan, int row0, int n);
/* D's backward from d_dlogit rows [row0, row0 + n): parameter gradients when `dweights`,
 * the input gradient into d_dx (rows must then be the fakes) when `dinput`. */
void gan_discriminator_backward(gancl_gan *gan, int row0, int n, int dweights, int dinput);

/* The gradient penalty's gradient with respect to D's parameters, added to D's gradients:
 * from u = dGP/dg in d_dx and D's forward pass on the interpolates (rows [row0, row0 + B)).
 * D is piecewise linear in its input (LeakyReLU), so d/dtheta <u, grad_x D> is a forward pass
 * of the tangent u through D without biases, masked like the primal pass, then the backward
 * pass of that linear chain: the exact double backpropagation. */
void gan_discriminator_gp_backward(gancl_gan *gan, int row0);

/* Losses with one D step per G step (bce, hinge), PyTorch-GAN order, on the noise in z
 * (rows [0, B)) and the real batch in d_x rows [0, B): the G step, then the D step reusing D's
 * forward pass. Only enqueues work; adds to `acc`. */
void gancl_gan_step(gancl_gan *gan, const gancl_step_config *cfg);
/* One D (critic) step on the real batch in d_x rows [0, B) and fakes G(z) made here (G in
 * training mode, as in PyTorch); with the penalty, interpolates from Philox (seed, step). */
void gancl_gan_critic_step(gancl_gan *gan, const gancl_step_config *cfg, uint64_t seed, long step);
/* One G step on the noise in z. */
void gancl_gan_generator_step(gancl_gan *gan, const gancl_step_config *cfg);

#endif
