/* gan.h: the classic MLP GAN on the device: parameters, activations, forward/backward of the
 * generator G and discriminator D, and one training iteration.
 *
 *   G: z[Z] -> Linear 256 -> LeakyReLU -> BatchNorm -> Linear 512 -> LeakyReLU -> BatchNorm
 *           -> Linear 1024 -> LeakyReLU -> BatchNorm -> Linear 784 -> tanh
 *   D: x[784] -> Linear 512 -> LeakyReLU -> Linear 256 -> LeakyReLU -> Linear 1 (a logit)
 *
 * Each network's parameters live in one buffer laid out params[P] | grads[P] | m[P] | v[P]
 * (Adam's moments), so zeroing gradients is one fill and Adam is one launch. D's activations
 * have 2B rows: the real batch in rows [0, B), the fakes in rows [B, 2B); one forward pass over
 * all 2B rows in the G step serves both steps (D does not change in between), and the D step's
 * backward covers all 2B rows at once. */
#ifndef GANCL_GAN_H
#define GANCL_GAN_H

#include "gancl/layers.h"

typedef struct {
    int latent;      /* Z */
    int image;       /* pixels per image, 784 */
    int g_hidden[3]; /* 256, 512, 1024 */
    int d_hidden[2]; /* 512, 256 */
    float slope;     /* LeakyReLU negative slope, 0.2 */
    float bn_eps;    /* 1e-3 (Keras) */
    float bn_momentum; /* weight of the batch statistics in the running ones: 0.2 (Keras 0.8) */
} gancl_gan_dims;

/* The defaults above with latent size Z. */
gancl_gan_dims gancl_gan_default_dims(int latent);

#define GANCL_MAX_TENSORS 32

/* One named tensor inside a flat buffer (checkpoint names follow PyTorch's state_dict). */
typedef struct {
    char name[64];
    int ndim;
    int shape[2];
    size_t off;   /* elements from the start of its buffer */
    size_t numel;
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
    long g_step, d_step; /* Adam steps taken */
    /* activation offsets in `acts` (elements) */
    size_t z;          /* [g_rows, Z] */
    size_t g_a[3];     /* LeakyReLU outputs [g_rows, g_hidden[i]] */
    size_t g_x[3];     /* BatchNorm outputs, the next layer's inputs */
    size_t g_saved[3]; /* batch mean, invstd [2 * g_hidden[i]] */
    size_t g_out;      /* generated images when not training [g_rows, image] */
    size_t g_d[3];     /* G's activation gradients [B, g_hidden[i]] */
    size_t d_x;        /* D's input [d_rows, image]: real rows, fake rows, (interpolates) */
    size_t d_h[2];     /* D's hidden outputs [d_rows, d_hidden[i]] */
    size_t d_logit;    /* [d_rows] */
    size_t d_dx;       /* D's input gradient for the fakes or interpolates [B, image] */
    size_t d_dh[2];    /* [d_rows, d_hidden[i]] */
    size_t d_dlogit;   /* [d_rows] */
    size_t d_tan[2];   /* gradient penalty: tangents, then their gradients [B, d_hidden[i]] */
    size_t gp_sq;      /* gradient penalty: (||grad|| - 1)^2 per sample [B] */
    size_t acts_size;
} gancl_gan;

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
