/* gan.h: the GANs: two networks (net.h) built from the model tables (models.c), the
 * objectives that connect them (the GAN losses and the gradient penalty, gan.c), and the
 * training steps. Models:
 *
 * mlp, the classic MNIST GAN (widths --g-layers 256,512,1024, --d-layers 512,256):
 *   G: z[Z] -> (Linear -> LeakyReLU 0.2 -> BatchNorm) per width -> Linear 784 -> tanh
 *   D: x[784] -> (Linear -> LeakyReLU 0.2) per width -> Linear 1 (a logit)
 * dcgan, the TensorFlow DCGAN tutorial's (channels --g-layers 256,128,64, --d-layers 64,128):
 *   G: z -> Linear c0*7*7 (no bias) -> BatchNorm -> LeakyReLU -> c0 x 7 x 7
 *        -> ConvTranspose 5x5 s1 -> c1 x 7 x 7 -> BatchNorm2d -> LeakyReLU
 *        -> ConvTranspose 5x5 s2 -> c2 x 14 x 14 -> BatchNorm2d -> LeakyReLU
 *        -> ConvTranspose 5x5 s2 -> 1 x 28 x 28 -> tanh          (no biases, padding 2)
 *   D: x -> Conv 5x5 s2 -> e0 x 14 x 14 -> LeakyReLU -> Dropout
 *        -> Conv 5x5 s2 -> e1 x 7 x 7 -> LeakyReLU -> Dropout -> Linear 1 (a logit)
 *
 * ssgan, the semi-supervised GAN of Salimans et al. 2016 (ssgan.h; widths --g-layers 500,500,
 * --d-layers 1000,500,250,250,250): pixels in [0, 1], noise uniform in (0, 1):
 *   G: z -> (Linear, no bias -> BatchNorm -> Softplus) per width -> weight-normed Linear 784
 *        -> Sigmoid
 *   D: x -> GaussianNoise 0.3 -> (weight-normed Linear -> ReLU -> GaussianNoise 0.5) per width
 *        -> weight-normed Linear 10 (the logits of K + 1 classes, the fake one's fixed at 0)
 *
 * Conditional (--conditional, arch.classes = 10, PyTorch-GAN's cgan): both networks begin with
 * an Embedding of the row's class concatenated to their input: G's z gets 10 dimensions; the
 * MLP's D gets 10 after the 784 pixels, and Dropout 0.4 after each hidden LeakyReLU; the
 * DCGAN's D gets 784, viewed as a second 28 x 28 channel (Unflatten 2 x 28 x 28) before its
 * first convolution.
 *
 * D's input has 2B rows: the real batch in rows [0, B), the fakes in rows [B, 2B) (and the
 * gradient penalty's interpolates in [2B, 3B)); one forward pass over all 2B rows in the G
 * step serves both steps (D does not change in between), and the D step's backward covers all
 * 2B rows at once. */
#ifndef GANCL_GAN_H
#define GANCL_GAN_H

#include "gancl/net.h"

/* The models: the GANs, and gan-cl's classifier (classifier.h), which `tune` knows too. */
typedef enum { GANCL_MODEL_MLP, GANCL_MODEL_DCGAN, GANCL_MODEL_CLASSIFIER, GANCL_MODEL_SSGAN } gancl_model;

#define GANCL_MAX_WIDTHS 8

/* What the tables are built from. */
typedef struct {
    gancl_model model;
    int latent;                      /* Z */
    int image;                       /* pixels per image, 784 (28 x 28) */
    int g[GANCL_MAX_WIDTHS], ng;     /* mlp: G's hidden widths; dcgan: its 3 channel counts */
    int d[GANCL_MAX_WIDTHS], nd;     /* mlp: D's hidden widths; dcgan: its 2 channel counts */
    float dropout;                   /* D's Dropout after each hidden layer: dcgan 0.3, the
                                        conditional mlp 0.4 (gancl_arch_conditional), else 0 */
    int classes;                     /* conditional: the number of classes (10); 0: not */
    int projection;                  /* conditional D: 1 the projection discriminator (the class
                                        embedding's inner product with D's last features), 0 the
                                        embedding concatenated to the image */
} gancl_arch;

/* models.c: the defaults of a model with latent size Z; the tables into G and D (-1 and a
 * message naming the layer when the widths do not make a network); the model's constants
 * (as the checkpoint's metadata records them); widths as "256,512,1024". */
gancl_arch gancl_arch_default(gancl_model model, int latent);
/* Makes the arch class-conditional (10 classes); the MLP's D then gets Dropout 0.4 after each
 * hidden layer, as PyTorch-GAN's and Keras-GAN's cgan D has (measured: without it G ignores
 * its noise within each class). */
void gancl_arch_conditional(gancl_arch *a);
int gancl_model_build(const gancl_arch *arch, gancl_net *g, gancl_net *d, char *err);
void gancl_model_constants(gancl_model model, float *slope, float *bn_eps, float *bn_momentum);
const char *gancl_model_name(gancl_model model);
/* A GAN model's name ("mlp", "dcgan", "ssgan") into *model; -1 when it names none. */
int gancl_model_parse(const char *name, gancl_model *model);
/* Whether the model's images are in [0, 1] (the ssgan's sigmoid G) rather than [-1, 1], and
 * its noise uniform in (0, 1) rather than standard normal. Samples handed out of gan.c are in
 * [-1, 1] whatever the model. */
static inline int gancl_arch_unit_pixels(const gancl_arch *a) { return a->model == GANCL_MODEL_SSGAN; }
/* The ssgan D's layer whose output feature matching compares (its last ReLU). */
int gancl_ssgan_feature_layer(const gancl_net *d);
int gancl_widths_parse(const char *s, int *widths, int *n, char *err);
void gancl_widths_format(const int *widths, int n, char *out, size_t len);

/* Slots of the device accumulator of logged statistics: sums over the D steps (D loss, mean D
 * output on real and fake images, gradient penalty) and over the G steps (G loss). */
enum { GANCL_ACC_D_LOSS, GANCL_ACC_G_LOSS, GANCL_ACC_D_REAL, GANCL_ACC_D_FAKE, GANCL_ACC_GP,
       GANCL_ACC_LAB_LOSS, GANCL_ACC_LAB_CORRECT, /* ssgan: the labelled loss, labelled rows named right */
       GANCL_ACC_N };

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
    gancl_arch arch;
    int batch;     /* B: training batch */
    int d_rows;    /* rows of D's input: 2B, or 3B with the gradient penalty (interpolates) or
                      for the ssgan (labelled, unlabelled, fakes) */
    int g_rows;    /* rows of G's activations: max(B, generation chunk) */
    gancl_net g, d;
    gancl_net g_ema; /* with --ema: G's exponential moving average ("generator_ema.*") */
    float ema_decay; /* 0: no EMA */
    int ema_stats_fresh; /* its BatchNorm statistics belong to its current weights */
    cl_mem io;      /* the objectives' tensors, at the offsets below (elements) */
    cl_mem scratch; /* the convolutions' scratch, shared by G and D */
    cl_mem acc;     /* GANCL_ACC_N floats of logged sums */
    cl_mem labels;  /* conditional: the class of each row, int [max(d_rows, g_rows)], read by both
                     * networks' Embedding: D's rows [0, B) real, [B, 2B) fakes, [2B, 3B)
                     * interpolates, all with the real batch's classes; G's rows [0, n) */
    size_t z;       /* [g_rows, Z] */
    size_t g_out;   /* generated images when not training [g_rows, image] */
    size_t d_x;     /* D's input [d_rows, image]: real rows, fake rows, (interpolates) */
    size_t d_dx;    /* D's input gradient for the fakes or interpolates [B, image] */
    size_t d_logit, d_dlogit; /* [d_rows, D's outputs] (the ssgan's 10 logits, else 1) */
    size_t gp_sq;   /* gradient penalty: (||grad|| - 1)^2 per sample [B]; ssgan: feature
                       matching's squared differences [F] */
    size_t io_size, scratch_size;
} gancl_gan;

/* Builds the tables and allocates everything for training batch B (generation up to g_rows
 * rows at once); `gp` adds room for the gradient penalty. -1 and a message when the arch
 * does not make a network (or a critic the penalty applies to). */
int gancl_gan_init(gancl_gan *gan, const gancl_runtime *rt, const gancl_arch *arch, int batch, int g_rows,
                   int gp, char *err);
void gancl_gan_free(gancl_gan *gan);
/* Bytes of device memory the model's buffers take. */
size_t gancl_gan_device_bytes(const gancl_gan *gan);
/* PyTorch's default initialisation (U(+-1/sqrt(fan_in)) for weights and biases, gamma 1,
 * beta 0, running mean 0, var 1) from a host RNG seeded with `seed`; optimiser state reset. */
void gancl_gan_init_params(gancl_gan *gan, uint64_t seed);
/* The Philox stream of the dropout and noise masks of the next passes. */
void gancl_gan_set_noise(gancl_gan *gan, uint64_t seed, long step, int stream);

/* Adds G's exponential moving average with this decay (0 < decay < 1), starting as a copy of
 * G: its parameters follow G's after every G step t, avg = d avg + (1 - d) G with
 * d = gancl_ema_decay_at(decay, t); its BatchNorm statistics are recomputed for its weights
 * (gancl_gan_refresh_ema_stats). Samples then come from it. -1 and a message on failure. */
int gancl_gan_enable_ema(gancl_gan *gan, float decay, char *err);
/* The decay after G step t: min(decay, (1 + t) / (10 + t)), so the first steps' weights do not
 * linger in the average (TensorFlow's ExponentialMovingAverage with num_updates). */
float gancl_ema_decay_at(float decay, long step);
/* The EMA generator's BatchNorm running statistics, recomputed from its own activations (not
 * averaged from G's): GANCL_EMA_STAT_PASSES forward passes in training mode over g_rows rows
 * of fresh noise, the running values ending as the mean of the passes' batch statistics.
 * Needed before sampling after the weights changed; a no-op when they did not. */
#define GANCL_EMA_STAT_PASSES 16
#define GANCL_STREAM_EMA_STATS 0x90000u /* their noise: Philox (seed; index, G step, this | pass) */
void gancl_gan_refresh_ema_stats(gancl_gan *gan, uint64_t seed);
/* Copies G into its average (after G was initialised or loaded). */
void gancl_gan_reset_ema(gancl_gan *gan);

/* Conditional: the classes of rows [0, n) (each in [0, classes)). */
void gancl_gan_set_labels(gancl_gan *gan, const int *labels, int n);
/* Conditional: rows [0, n) of D and G get the classes at perm_labels[off ..] (the training set's
 * labels in this epoch's order), repeated for the fakes and interpolates: D's rows [B, 2B) and
 * [2B, 3B) get the same classes as its real rows [0, B). */
void gancl_gan_batch_labels(gancl_gan *gan, cl_mem perm_labels, size_t off);

/* A pointer into the objectives' buffer. */
gancl_ptr gancl_gan_io(const gancl_gan *gan, size_t off);

/* The model's noise (normal, or uniform for the ssgan): n values from Philox (seed; index,
 * c1, c2). */
void gancl_gan_noise(const gancl_gan *gan, gancl_ptr out, size_t n, uint64_t seed, uint32_t c1, uint32_t c2);
/* Generated images read back from the device [n, image], into [-1, 1] in place. */
void gancl_gan_signed_pixels(const gancl_gan *gan, float *img, size_t n);

/* G on rows [0, n) of z into `out` ([n, image]); training uses and updates batch statistics. */
void gancl_gan_generate(gancl_gan *gan, gancl_ptr out, int n, int training);
/* Samples: the EMA generator when there is one, else G, in evaluation mode (running
 * statistics), on rows [0, n) of z (n <= g_rows). */
void gancl_gan_sample(gancl_gan *gan, gancl_ptr out, int n);
/* count images img [count, image] (in [-1, 1]) through gancl_gan_sample, in chunks of
 * GANCL_SAMPLE_CHUNK rows (g_rows when fewer), chunk k's noise from Philox (seed; index, k,
 * GANCL_STREAM_SAMPLES): the same images for the same seed in `generate`, `score` and the
 * scores while training. z is overwritten. A conditional model draws image i of class
 * labels[i], or of class i % classes when labels is NULL (every class equally often). */
#define GANCL_SAMPLE_CHUNK 64
#define GANCL_STREAM_SAMPLES 0x30000u
void gancl_gan_sample_images(gancl_gan *gan, int count, uint64_t seed, const int *labels, float *img);

/* One optimiser step of `net` (gan's G or D) at this learning rate; G's EMA follows G. */
void gancl_gan_optimize(gancl_gan *gan, gancl_net *net, float lr, const gancl_step_config *cfg);

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
