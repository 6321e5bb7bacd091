/* train.h: the training job (gan-cl's main command) and sample generation from a checkpoint.
 * Outputs of a run directory: samples/epoch_NNN.png, progress.png, metrics.csv, losses.svg, config.json,
 * checkpoint.safetensors. */
#ifndef GANCL_TRAIN_H
#define GANCL_TRAIN_H

#include "gancl/device.h"
#include "gancl/gan.h"
#include "gancl/mnist.h"

#include <stdint.h>

#define GANCL_EMA_DEFAULT 0.999f

typedef struct {
    gancl_model model;
    int latent, batch;
    int conditional;     /* --conditional: G and D get the class (train.h's arch.classes = 10) */
    int projection;      /* conditional D: 1 a projection discriminator (the default), 0 the
                            class concatenated to the image (--d-conditioning concat) */
    int g_layers[GANCL_MAX_WIDTHS], ng; /* --g-layers / --d-layers; ng, nd = 0: the model's */
    int d_layers[GANCL_MAX_WIDTHS], nd;
    gancl_step_config step; /* loss, optimiser and their settings */
    uint64_t seed;
    int epochs;          /* total epochs to reach (counting resumed ones) */
    long steps;          /* total iterations to reach; 0 = no limit */
    int sample_every;    /* epochs between sample grids */
    int checkpoint_every; /* epochs between checkpoints */
    int log_every;       /* iterations between reads of the losses */
    int score_every;     /* epochs between sample scores (needs a scorer) */
    int score_count;     /* images scored each time */
    float ema;           /* decay of G's moving average; 0: none */
    int labels;          /* ssgan: labelled training images (a multiple of 10); 0: all */
    float unlabeled_weight; /* ssgan: the unlabelled loss's weight (1; 0: D learns from the labels alone) */
    int quiet;
    const char *resume;  /* checkpoint to continue from, or NULL */
    char out_dir[4096];  /* "" = runs/YYYYmmdd-HHMMSS, or the checkpoint's directory on resume */
    /* flags given on the command line, which a resumed checkpoint must not contradict */
    int set_model, set_latent, set_batch, set_lr, set_beta1, set_beta2, set_seed, set_loss, set_optimizer,
        set_n_critic, set_clip, set_gp_weight, set_layers, set_ema, set_conditional,
        set_projection, set_labels, set_unlabeled_weight;
} gancl_train_config;

/* The networks' description the configuration asks for. */
gancl_arch gancl_train_arch(const gancl_train_config *cfg);

/* Defaults: latent 100, batch 64, the bce loss with its settings (gancl_step_defaults), seed 1,
 * 30 epochs, samples and checkpoints every epoch, losses read every 50 iterations, 10000
 * samples scored every 10 epochs, G's EMA with decay GANCL_EMA_DEFAULT. */
gancl_train_config gancl_train_defaults(void);

/* Trains on `train` (the 28x28 training split), scoring samples with `scorer` unless it is
 * NULL; the ssgan measures its test error on `test` (NULL for the other models). Returns the process exit status: 0 done, 1 error (message printed), 130 stopped by a
 * signal after saving a checkpoint. */
struct gancl_scorer;
int gancl_train(const gancl_runtime *rt, gancl_train_config *cfg, const gancl_dataset *train,
                const gancl_dataset *test, const struct gancl_scorer *scorer);

/* One training iteration as training runs it: noise for `step` from `seed` into z, the batch
 * at perm[perm_off ..] gathered from `images` into D's real rows (for a conditional model, its
 * classes from perm_labels[perm_off ..], the labels in the same order), then a G and a D step
 * (gancl_gan_step), or a critic step and, every n_critic-th step, a G step on fresh noise. */
void gancl_train_iteration(gancl_gan *gan, const gancl_step_config *cfg, cl_mem images,
                           cl_mem perm, cl_mem perm_labels, size_t perm_off, uint64_t seed, long step);
/* G steps among iterations [from, to) with n_critic D steps per G step. */
long gancl_g_steps_between(long from, long to, int n_critic);

/* `gan-cl bench`: the model with `loss` (and its default settings) on random data at batch
 * B; after a warm-up, `iters` iterations in 5 timed groups; prints the median ms/iteration and
 * img/s (and the profile when the runtime has a profiler). Returns the exit status. */
int gancl_bench(const gancl_runtime *rt, gancl_model model, int batch, int iters, gancl_loss loss);

typedef enum { GANCL_FORMAT_PNG, GANCL_FORMAT_IDX } gancl_image_format;

typedef struct {
    int count;          /* images; with several digits, per digit */
    uint64_t seed;      /* the noise: the same images for the same seed */
    const char *out;
    gancl_image_format format;
    const char *digits; /* conditional models: "7" (all sevens), "0123456789" (a row each), or NULL
                         * (every class in turn) */
    int interpolate;    /* a strip of count images: from one noise vector to another (at the
                         * digit asked for), or with two digits from the first to the second */
} gancl_generate_options;

/* Writes images from the checkpoint's generator (the EMA generator when it has one; running
 * BatchNorm statistics) to `out`: a PNG grid, or an IDX file of uint8 28x28 images and, for a
 * conditional model, "...-labels-idx1-ubyte" next to it with the classes asked for. Asking an
 * unconditional model for digits is an error. Returns 0 or 1 (message printed). */
int gancl_generate(const gancl_runtime *rt, const char *checkpoint, const gancl_generate_options *o);

#endif
