/* train.c: the training job: data on the device, the iteration loop, progress, sample grids,
 * the loss log, checkpoints, resume and Ctrl-C. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/train.h"
#include "gancl/checkpoint.h"
#include "gancl/classifier.h"
#include "gancl/evaluate.h"
#include "gancl/fsutil.h"
#include "gancl/gan.h"
#include "gancl/image.h"
#include "gancl/gemm.h"
#include "gancl/metrics.h"
#include "gancl/profile.h"
#include "gancl/selftest.h"
#include "gancl/ssgan.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Philox streams (counter word c2) so no two uses of the seed share random numbers. */
#define STREAM_TRAIN_Z 0x10000u
#define STREAM_FIXED_Z 0x20000u
#define STREAM_G_Z 0x50000u /* a G step's own noise when it follows critic steps */
#define SSGAN_INIT_ROWS 500 /* the script's data-dependent initialisation batch */
/* The sample grid: 8 x 8, or for a conditional model 10 x 10 with one digit per row. */
static int grid_side(const gancl_arch *a) { return a->classes ? a->classes : 8; }

gancl_arch gancl_train_arch(const gancl_train_config *cfg) {
    gancl_arch a = gancl_arch_default(cfg->model, cfg->latent);
    if (cfg->conditional) {
        gancl_arch_conditional(&a);
        a.projection = cfg->projection;
    }
    if (cfg->ng) {
        a.ng = cfg->ng;
        memcpy(a.g, cfg->g_layers, sizeof a.g);
    }
    if (cfg->nd) {
        a.nd = cfg->nd;
        memcpy(a.d, cfg->d_layers, sizeof a.d);
    }
    return a;
}

gancl_train_config gancl_train_defaults(void) {
    gancl_train_config c;
    memset(&c, 0, sizeof c);
    c.latent = 100;
    c.batch = 64;
    c.projection = 1; /* conditional models: the projection discriminator (measured better) */
    c.step = gancl_step_defaults(GANCL_LOSS_BCE);
    c.seed = 1;
    c.epochs = 30;
    c.sample_every = 1;
    c.checkpoint_every = 1;
    c.log_every = 50;
    c.score_every = 10;
    c.score_count = 10000;
    c.ema = GANCL_EMA_DEFAULT;
    return c;
}

static int fused(const gancl_step_config *cfg) {
    return cfg->n_critic == 1 && (cfg->loss == GANCL_LOSS_BCE || cfg->loss == GANCL_LOSS_HINGE);
}

long gancl_g_steps_between(long from, long to, int n_critic) {
    /* iteration s ends with a G step when s % n_critic == n_critic - 1 */
    return (to + 1) / n_critic - (from + 1) / n_critic;
}

void gancl_train_iteration(gancl_gan *gan, const gancl_step_config *cfg, cl_mem images,
                           cl_mem perm, cl_mem perm_labels, size_t perm_off, uint64_t seed, long step) {
    const int B = gan->batch;
    if (gan->arch.classes) gancl_gan_batch_labels(gan, perm_labels, perm_off);
    gancl_ptr z = gancl_gan_io(gan, gan->z);
    const uint32_t hi = (uint32_t)(step >> 32);
    gancl_gan_noise(gan, z, (size_t)B * gan->arch.latent, seed, (uint32_t)step, STREAM_TRAIN_Z | hi);
    gather_images(gan->rt, gancl_gan_io(gan, gan->d_x), images, perm, perm_off, B, gan->arch.image, 0);
    gancl_gan_set_noise(gan, seed, step, 0); /* dropout masks */
    if (fused(cfg)) {
        gancl_gan_step(gan, cfg);
        return;
    }
    gancl_gan_critic_step(gan, cfg, seed, step);
    if (step % cfg->n_critic == cfg->n_critic - 1) {
        gancl_gan_noise(gan, z, (size_t)B * gan->arch.latent, seed, (uint32_t)step, STREAM_G_Z | hi);
        gancl_gan_set_noise(gan, seed, step, 1);
        gancl_gan_generator_step(gan, cfg);
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Everything the loop needs besides the model. */
typedef struct {
    const gancl_runtime *rt;
    gancl_train_config *cfg;
    const gancl_scorer *scorer; /* or NULL */
    gancl_gan gan;
    cl_mem images, perm, fixed_z;
    cl_mem perm_labels; /* conditional: the training labels in this epoch's order, int */
    const uint8_t *labels; /* the training set's labels */
    /* ssgan: the labelled subset (training-set indices), this epoch's labelled order (the subset
     * reshuffled and repeated) with its classes, and the second unlabelled order */
    int *lab_idx, n_lab;
    cl_mem lab_order, lab_classes, perm2;
    const gancl_dataset *test;
    double test_error; /* ssgan: the last one measured (NaN: none yet), at tested_step */
    long tested_step;
    long total_steps;
    long lr_horizon; /* ssgan: the learning rate decays over the last third of --epochs (not
                        of --steps, which only stops a run) */
    int n_images, iters_per_epoch;
    long step;
    gancl_metrics metrics;
    char path_ckpt[4200], path_csv[4200], path_svg[4200], samples_dir[4200];
    int tty;
    double t_start, t_last_log;
    long step_last_log;
    gancl_metric_row last;
    double last_draw;
    long saved_step, sampled_step; /* last step a checkpoint / sample grid was written at */
    double prev_g_loss;
    long scored_step;   /* last step the samples were scored at */
    gancl_scores score; /* their scores */
    double score_s;     /* seconds spent scoring */
    int n_scored;
    int warned_collapse;
} trainer;

static void fill_meta(const trainer *t, gancl_meta *m) {
    const gancl_train_config *c = t->cfg;
    memset(m, 0, sizeof *m);
    gancl_meta_set(m, "format", "gan-cl");
    gancl_meta_set(m, "format_version", "1");
    gancl_meta_set(m, "gan_cl_version", "%s", GANCL_VERSION);
    gancl_meta_set(m, "model", "%s", gancl_model_name(c->model));
    gancl_meta_set(m, "loss", "%s", c->model == GANCL_MODEL_SSGAN ? "kplus1" : gancl_loss_name(c->step.loss));
    gancl_meta_set(m, "optimizer", "%s", gancl_optimizer_name(c->step.optimizer));
    gancl_meta_set(m, "latent_dim", "%d", c->latent);
    gancl_meta_set(m, "classes", "%d", t->gan.arch.classes); /* conditional: 10 */
    gancl_meta_set(m, "d_dropout", "%.9g", t->gan.arch.dropout);
    if (t->gan.arch.classes) gancl_meta_set(m, "d_conditioning", "%s", t->gan.arch.projection ? "projection" : "concat");
    if (c->model == GANCL_MODEL_SSGAN) {
        if (c->labels) gancl_meta_set(m, "labels", "%d", c->labels);
        else gancl_meta_set(m, "labels", "all");
        gancl_meta_set(m, "unlabeled_weight", "%.9g", c->unlabeled_weight);
        gancl_meta_set(m, "lr_schedule", "linear decay to 0 over the last third of %ld steps", t->lr_horizon);
    }
    char w[128];
    gancl_widths_format(t->gan.arch.g, t->gan.arch.ng, w, sizeof w);
    gancl_meta_set(m, "g_layers", "%s", w);
    gancl_widths_format(t->gan.arch.d, t->gan.arch.nd, w, sizeof w);
    gancl_meta_set(m, "d_layers", "%s", w);
    gancl_meta_set(m, "batch_size", "%d", c->batch);
    gancl_meta_set(m, "lr_g", "%.9g", c->step.lr_g);
    gancl_meta_set(m, "lr_d", "%.9g", c->step.lr_d);
    gancl_meta_set(m, "beta1", "%.9g", c->step.beta1);
    gancl_meta_set(m, "beta2", "%.9g", c->step.beta2);
    gancl_meta_set(m, "eps", "%.9g", c->step.eps);
    gancl_meta_set(m, "rmsprop_alpha", "%.9g", c->step.alpha);
    gancl_meta_set(m, "n_critic", "%d", c->step.n_critic);
    gancl_meta_set(m, "clip", "%.9g", c->step.clip);
    gancl_meta_set(m, "gp_weight", "%.9g", c->step.gp_weight);
    gancl_meta_set(m, "ema_decay", "%.9g", c->ema);
    float slope, bn_eps, bn_momentum;
    gancl_model_constants(c->model, &slope, &bn_eps, &bn_momentum);
    gancl_meta_set(m, "leaky_slope", "%.9g", slope);
    gancl_meta_set(m, "bn_eps", "%.9g", bn_eps);
    gancl_meta_set(m, "bn_momentum", "%.9g", bn_momentum);
    gancl_meta_set(m, "seed", "%llu", (unsigned long long)c->seed);
    gancl_meta_set(m, "rng", "philox4x32-10, key = seed, counter = (index, step, stream)");
    gancl_meta_set(m, "train_images", "%d", t->n_images);
    gancl_meta_set(m, "iters_per_epoch", "%d", t->iters_per_epoch);
    gancl_meta_set(m, "step", "%ld", t->step);
    gancl_meta_set(m, "epoch", "%ld", t->step / t->iters_per_epoch);
    gancl_meta_set(m, "g_adam_step", "%ld", t->gan.g.step);
    gancl_meta_set(m, "d_adam_step", "%ld", t->gan.d.step);
    gancl_meta_set(m, "device", "%s", t->rt->dev.name);
}

static int save_checkpoint(trainer *t, char *err) {
    gancl_gan_refresh_ema_stats(&t->gan, t->cfg->seed);
    gancl_meta m;
    char why[GANCL_ERR_LEN];
    fill_meta(t, &m);
    if (gancl_checkpoint_save(t->path_ckpt, &t->gan, &m, why)) {
        snprintf(err, GANCL_ERR_LEN, "checkpoint not written: %s", why);
        return -1;
    }
    t->saved_step = t->step;
    return 0;
}

static int write_config(const trainer *t, char *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", t->cfg->out_dir);
    gancl_meta m;
    fill_meta(t, &m);
    gancl_meta_set(&m, "epochs", "%d", t->cfg->epochs);
    gancl_meta_set(&m, "steps", "%ld", t->cfg->steps);
    gancl_meta_set(&m, "sample_every", "%d", t->cfg->sample_every);
    gancl_meta_set(&m, "checkpoint_every", "%d", t->cfg->checkpoint_every);
    gancl_meta_set(&m, "log_every", "%d", t->cfg->log_every);
    gancl_meta_set(&m, "score_every", "%d", t->scorer ? t->cfg->score_every : 0);
    gancl_meta_set(&m, "score_count", "%d", t->cfg->score_count);
    gancl_meta_set(&m, "gemm", "%s", gancl_gemm_method_name(t->rt->gemm));
    gancl_meta_set(&m, "platform", "%s (%s)", t->rt->dev.platform_name, t->rt->dev.platform_version);
    gancl_meta_set(&m, "driver", "%s", t->rt->dev.driver_version);
    gancl_meta_set(&m, "clblast_version", "%s", GANCL_CLBLAST_VERSION);
    gancl_meta_set(&m, "resumed_from", "%s", t->cfg->resume ? t->cfg->resume : "");
    gancl_atomic_file f;
    if (gancl_atomic_open(&f, path, err) == 0) {
        fputs("{\n", f.fp);
        for (int i = 0; i < m.n; i++) {
            fputs("  ", f.fp);
            gancl_json_write_string(f.fp, m.kv[i].key);
            fputs(": ", f.fp);
            gancl_json_write_string(f.fp, m.kv[i].value);
            fputs(i + 1 < m.n ? ",\n" : "\n", f.fp);
        }
        fputs("}\n", f.fp);
        return gancl_atomic_commit(&f, err);
    }
    return -1;
}

/* Fisher-Yates on a[0, n) from splitmix64 state `rng`. */
static void shuffle(int *a, int n, uint64_t rng) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(gancl_splitmix64(&rng) % (uint64_t)(i + 1));
        int tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
    }
}

/* The order of the training set in epoch e: Fisher-Yates from (seed, e). The ssgan's second
 * unlabelled order and its labelled one (the subset shuffled anew for each pass over it, the
 * passes one after another, as the script builds them) come from streams of their own. */
static void upload_permutation(trainer *t, long epoch) {
    const int n = t->n_images;
    int *perm = malloc((size_t)n * sizeof *perm);
    if (!perm) gancl_die("out of host memory");
    const uint64_t base = t->cfg->seed * 0x9E3779B97F4A7C15ull + (uint64_t)epoch + 1;
    for (int i = 0; i < n; i++) perm[i] = i;
    shuffle(perm, n, base);
    gancl_write(t->rt, t->perm, 0, (size_t)n * sizeof *perm, perm);
    if (t->perm_labels) {
        for (int i = 0; i < n; i++) perm[i] = t->labels[perm[i]];
        gancl_write(t->rt, t->perm_labels, 0, (size_t)n * sizeof *perm, perm);
    }
    if (t->lab_idx) {
        for (int i = 0; i < n; i++) perm[i] = i;
        shuffle(perm, n, base ^ 0x5555555555555555ull);
        gancl_write(t->rt, t->perm2, 0, (size_t)n * sizeof *perm, perm);
        int *chunk = malloc((size_t)t->n_lab * sizeof *chunk);
        if (!chunk) gancl_die("out of host memory");
        for (int done = 0, pass = 0; done < n; done += t->n_lab, pass++) {
            memcpy(chunk, t->lab_idx, (size_t)t->n_lab * sizeof *chunk);
            shuffle(chunk, t->n_lab, base ^ (0xA5A5A5A5A5A5A5A5ull + (uint64_t)pass * 0x9E3779B97F4A7C15ull));
            const int m = n - done < t->n_lab ? n - done : t->n_lab;
            memcpy(perm + done, chunk, (size_t)m * sizeof *perm);
        }
        free(chunk);
        gancl_write(t->rt, t->lab_order, 0, (size_t)n * sizeof *perm, perm);
        for (int i = 0; i < n; i++) perm[i] = t->labels[perm[i]];
        gancl_write(t->rt, t->lab_classes, 0, (size_t)n * sizeof *perm, perm);
    }
    free(perm);
}

static int write_samples(trainer *t, const char *name, char *err) {
    const gancl_runtime *rt = t->rt;
    gancl_gan *g = &t->gan;
    const int side = grid_side(&g->arch), n = side * side, I = g->arch.image;
    gancl_gan_refresh_ema_stats(g, t->cfg->seed); /* before z and the labels are set: it uses them */
    if (g->arch.classes) { /* row r: the digit r */
        int labels[GANCL_CLASSES * GANCL_CLASSES];
        for (int i = 0; i < n; i++) labels[i] = i / side;
        gancl_gan_set_labels(g, labels, n);
    }
    CL_CHECK(clEnqueueCopyBuffer(rt->queue, t->fixed_z, g->io, 0, g->z * sizeof(float),
                                 (size_t)n * g->arch.latent * sizeof(float), 0, NULL, NULL));
    gancl_gan_sample(g, gancl_gan_io(g, g->g_out), n);
    float *img = malloc((size_t)n * I * sizeof *img);
    int gw = gancl_grid_width(side, 28, 2), gh = gancl_grid_height(side, 28, 2);
    uint8_t *px = malloc((size_t)gw * gh);
    if (!img || !px) gancl_die("out of host memory");
    gancl_read(rt, g->io, g->g_out * sizeof(float), (size_t)n * I * sizeof *img, img);
    gancl_gan_signed_pixels(g, img, (size_t)n * I);
    gancl_grid(px, img, n, side, side, 28, 28, 2);
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.png", t->samples_dir, name);
    const int rc = gancl_png_write(path, px, gw, gh, err);
    if (rc == 0) t->sampled_step = t->step;
    free(img);
    free(px);
    return rc;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* progress.png: every sample grid of the run so far (samples/epoch_NNN.png, then a last
 * step_NNNNNNN.png) as the frames of an animated PNG, a quarter second each. */
static int write_progress(const trainer *t, char *err) {
    err[0] = 0;
    DIR *d = opendir(t->samples_dir);
    if (!d) {
        snprintf(err, GANCL_ERR_LEN, "%s: %s", t->samples_dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    int n = 0, rc = -1;
    for (struct dirent *e; (e = readdir(d));) {
        const char *s = e->d_name;
        const size_t len = strlen(s);
        if ((strncmp(s, "epoch_", 6) && strncmp(s, "step_", 5)) || len < 5 || strcmp(s + len - 4, ".png")) continue;
        char **grown = realloc(names, (size_t)(n + 1) * sizeof *names);
        if (!grown) goto out;
        names = grown;
        names[n] = malloc(strlen(t->samples_dir) + len + 2);
        if (!names[n]) goto out;
        sprintf(names[n++], "%s/%s", t->samples_dir, s);
    }
    qsort(names, (size_t)n, sizeof *names, by_name); /* epoch_ sorts before step_ */
    char path[4300];
    snprintf(path, sizeof path, "%s/progress.png", t->cfg->out_dir);
    rc = gancl_apng_write(path, names, n, 250, 2000, err);
out:
    if (rc && !err[0]) snprintf(err, GANCL_ERR_LEN, "progress.png: out of host memory");
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

/* Scores score_count samples (the same noise every time) into the last metrics row, prints
 * them, and warns once about a collapse. */
static void score_samples(trainer *t) {
    const double t0 = now_s();
    gancl_gan_refresh_ema_stats(&t->gan, t->cfg->seed);
    gancl_scorer_score_gan(t->scorer, &t->gan, t->cfg->score_count, t->cfg->seed, &t->score);
    t->score_s += now_s() - t0;
    t->n_scored++;
    t->t_last_log += now_s() - t0; /* the next row's img/s is training's alone */
    t->scored_step = t->step;
    if (t->metrics.n) {
        gancl_metric_row *r = &t->metrics.rows[t->metrics.n - 1];
        r->fid = t->score.fid;
        r->precision = t->score.precision;
        r->recall = t->score.recall;
        r->is = t->score.is;
        r->kl_uniform = t->score.kl_uniform;
    }
    char line[200], warn[256];
    if (!t->cfg->quiet) {
        gancl_scores_line(&t->score, line, sizeof line);
        printf("%s  scores (%d samples%s, %.1f s): %s\n", t->tty ? "\r\033[K" : "", t->cfg->score_count,
               t->gan.ema_decay ? ", EMA generator" : "", now_s() - t0, line);
        fflush(stdout);
    }
    if (!t->warned_collapse && gancl_scores_collapse(&t->score, warn, sizeof warn)) {
        fprintf(stderr, "%sgan-cl: warning: %s\n  (at step %ld; warned once; see the sample grids)\n",
                t->tty ? "\r\033[K" : "", warn, t->step);
        t->warned_collapse = 1;
    }
}

static int write_log_files(trainer *t, char *err) {
    char title[300];
    if (gancl_metrics_write_csv(&t->metrics, t->path_csv, err)) return -1;
    if (t->cfg->model == GANCL_MODEL_SSGAN)
        snprintf(title, sizeof title, "gan-cl: ssgan (%d labels) on %.200s, batch %d", t->n_lab, t->rt->dev.name,
                 t->cfg->batch);
    else
        snprintf(title, sizeof title, "gan-cl: %s (%s) on %.200s, batch %d", gancl_model_name(t->cfg->model),
                 gancl_loss_name(t->cfg->step.loss), t->rt->dev.name, t->cfg->batch);
    return gancl_metrics_write_svg(&t->metrics, t->path_svg, title, t->cfg->step.loss == GANCL_LOSS_BCE, err);
}

/* An output could not be written (a full disk, a read-only directory): training stops, after
 * trying to keep its progress in the checkpoint. Files already written stay as they were. */
static void output_failed(trainer *t, const char *err) {
    fprintf(stderr, "%sgan-cl: error: %s\n", t->tty ? "\r\033[K" : "\n", err);
    char again[GANCL_ERR_LEN];
    if (t->saved_step != t->step && strncmp(err, "checkpoint", 10)) (void)save_checkpoint(t, again);
    if (t->saved_step == t->step)
        fprintf(stderr, "  the checkpoint %s holds step %ld: resume with --resume once there is room\n",
                t->path_ckpt, t->step);
    else if (gancl_file_exists(t->path_ckpt))
        fprintf(stderr, "  the last checkpoint, %s, holds step %ld (this run reached step %ld)\n", t->path_ckpt,
                t->saved_step, t->step);
    fprintf(stderr, "  hint: free space in %s or choose another --out\n", t->cfg->out_dir);
}

static void fmt_time(double s, char *out, size_t n) {
    long v = (long)(s + 0.5);
    if (v >= 3600) snprintf(out, n, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
    else snprintf(out, n, "%ld:%02ld", v / 60, v % 60);
}

/* "D 0.612  G 0.824  D(x) 0.57  D(G(z)) 0.45", or with a critic "... W 0.12  GP 0.03". */
static void format_stats(const trainer *t, char *out, size_t n) {
    const gancl_metric_row *r = &t->last;
    if (t->cfg->model == GANCL_MODEL_SSGAN && t->cfg->unlabeled_weight == 0) /* D alone: no G, no fakes */
        snprintf(out, n, "labelled %.4f  train error %.1f%%  (D on the labels alone)", r->lab_loss,
                 100 * r->train_error);
    else if (t->cfg->model == GANCL_MODEL_SSGAN)
        snprintf(out, n, "D %.3f  labelled %.3f  G %.4f  D(x) %.3f  D(G(z)) %.3f  train error %.1f%%", r->d_loss,
                 r->lab_loss, r->g_loss, r->d_real, r->d_fake, 100 * r->train_error);
    else if (t->cfg->step.loss == GANCL_LOSS_BCE)
        snprintf(out, n, "D %.3f  G %.3f  D(x) %.3f  D(G(z)) %.3f", r->d_loss, r->g_loss, r->d_real, r->d_fake);
    else if (t->cfg->step.loss == GANCL_LOSS_WGAN_GP)
        snprintf(out, n, "D %.3f  G %.3f  W %.4f  GP %.4f", r->d_loss, r->g_loss, r->w_estimate, r->gp);
    else
        snprintf(out, n, "D %.3f  G %.3f  W %.4f", r->d_loss, r->g_loss, r->w_estimate);
}

/* The live line (terminal) or nothing (the plain per-epoch line is printed elsewhere). */
static void draw_progress(trainer *t, long total_steps, double img_s) {
    if (!t->tty || t->cfg->quiet) return;
    long in_epoch = t->step - (t->step - 1) / t->iters_per_epoch * t->iters_per_epoch;
    long epoch = (t->step - 1) / t->iters_per_epoch + 1;
    double frac = (double)in_epoch / t->iters_per_epoch;
    char bar[21], eta[32];
    for (int i = 0; i < 20; i++) bar[i] = i < (int)(frac * 20) ? '=' : ' ';
    bar[20] = 0;
    fmt_time(img_s > 0 ? (double)(total_steps - t->step) * t->cfg->batch / img_s : 0, eta, sizeof eta);
    char stats[160];
    format_stats(t, stats, sizeof stats);
    fprintf(stdout, "\r\033[Kepoch %ld/%d [%s] %ld/%d  %.0f img/s  ETA %s  %s", epoch, t->cfg->epochs,
            bar, in_epoch, t->iters_per_epoch, img_s, eta, stats);
    fflush(stdout);
}

/* Reads and clears the device's loss sums; appends a row. -1 when a loss is not finite. */
static int log_step(trainer *t) {
    float acc[GANCL_ACC_N];
    gancl_read(t->rt, t->gan.acc, 0, sizeof acc, acc);
    float zero = 0.0f;
    CL_CHECK(clEnqueueFillBuffer(t->rt->queue, t->gan.acc, &zero, sizeof zero, 0, sizeof acc, 0, NULL, NULL));
    const gancl_step_config *st = &t->cfg->step;
    const int ss = t->cfg->model == GANCL_MODEL_SSGAN;
    long n = t->step - t->step_last_log; /* D steps in the interval */
    long ng = ss ? (t->cfg->unlabeled_weight != 0 ? n : 0)
              : fused(st) ? n : gancl_g_steps_between(t->step_last_log, t->step, st->n_critic);
    double now = now_s();
    gancl_metric_row r = {(int)((t->step - 1) / t->iters_per_epoch + 1), t->step,
                          acc[GANCL_ACC_D_LOSS] / n, ng ? acc[GANCL_ACC_G_LOSS] / ng : NAN,
                          acc[GANCL_ACC_D_REAL] / n, acc[GANCL_ACC_D_FAKE] / n,
                          (acc[GANCL_ACC_D_REAL] - acc[GANCL_ACC_D_FAKE]) / n, acc[GANCL_ACC_GP] / n,
                          n * t->cfg->batch / (now - t->t_last_log), now - t->t_start,
                          NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    if (ss) {
        r.lab_loss = acc[GANCL_ACC_LAB_LOSS] / n;
        r.train_error = 1 - acc[GANCL_ACC_LAB_CORRECT] / ((double)n * t->cfg->batch);
        r.w_estimate = r.gp = NAN; /* no critic */
        if (t->cfg->unlabeled_weight == 0) r.d_loss = r.d_real = r.d_fake = NAN;
    }
    t->t_last_log = now;
    t->step_last_log = t->step;
    t->last = r;
    gancl_prof_harvest(t->rt); /* the read above waited for the device */
    if (gancl_metrics_add(&t->metrics, r)) gancl_die("out of host memory");
    for (int i = 0; i < GANCL_ACC_N; i++)
        if (!isfinite(acc[i])) return -1;
    if (ss && t->cfg->unlabeled_weight == 0) t->last.d_loss = t->last.lab_loss; /* the only D loss */
    if (ng == 0) t->last.g_loss = t->prev_g_loss; /* no G step in this interval: show the last */
    else t->prev_g_loss = r.g_loss;
    return 0;
}

/* Applies the checkpoint's configuration to cfg; explicit flags must agree with it. */
static int adopt_checkpoint_config(gancl_train_config *cfg, const gancl_checkpoint *ck, char *err) {
    const gancl_meta *m = &ck->meta;
    const char *model = gancl_meta_get(m, "model"), *loss = gancl_meta_get(m, "loss"),
               *opt = gancl_meta_get(m, "optimizer");
    gancl_model mo;
    if (gancl_model_parse(model, &mo)) {
        snprintf(err, GANCL_ERR_LEN, "%s: a checkpoint of unknown model '%s'", ck->path, model ? model : "?");
        return -1;
    }
    if (cfg->set_model && mo != cfg->model) {
        snprintf(err, GANCL_ERR_LEN, "--model conflicts with the checkpoint (a %s)\n"
                 "  hint: leave --model out to continue with the checkpoint's", model);
        return -1;
    }
    cfg->model = mo;
    gancl_arch arch;
    if (gancl_checkpoint_arch(ck, &arch, err)) return -1;
    if (cfg->set_layers) {
        gancl_arch want = gancl_train_arch(cfg);
        if (want.ng != arch.ng || want.nd != arch.nd || memcmp(want.g, arch.g, sizeof want.g) ||
            memcmp(want.d, arch.d, sizeof want.d)) {
            snprintf(err, GANCL_ERR_LEN, "--g-layers/--d-layers conflict with the checkpoint (%s, %s)\n"
                     "  hint: leave them out to continue with the checkpoint's", gancl_meta_get(m, "g_layers"),
                     gancl_meta_get(m, "d_layers"));
            return -1;
        }
    }
    if (cfg->set_conditional && !arch.classes) {
        snprintf(err, GANCL_ERR_LEN, "--conditional conflicts with the checkpoint (an unconditional %s)\n"
                 "  hint: leave --conditional out to continue it, or start a new run", model);
        return -1;
    }
    if (cfg->set_projection && arch.classes && cfg->projection != arch.projection) {
        snprintf(err, GANCL_ERR_LEN, "--d-conditioning %s conflicts with the checkpoint (its D is %s)\n"
                 "  hint: leave --d-conditioning out to continue it, or start a new run",
                 cfg->projection ? "projection" : "concat", arch.projection ? "projection" : "concat");
        return -1;
    }
    if (cfg->set_projection && !arch.classes) {
        snprintf(err, GANCL_ERR_LEN, "--d-conditioning conflicts with the checkpoint (an unconditional %s)\n"
                 "  hint: leave --d-conditioning out to continue it, or start a new run", model);
        return -1;
    }
    if (mo == GANCL_MODEL_SSGAN) {
        const char *lab = gancl_meta_get(m, "labels"), *uw = gancl_meta_get(m, "unlabeled_weight");
        if (!lab || !uw) {
            snprintf(err, GANCL_ERR_LEN, "%s: an ssgan checkpoint without 'labels' or 'unlabeled_weight'", ck->path);
            return -1;
        }
        const int n_lab = strcmp(lab, "all") ? atoi(lab) : 0;
        const float w = strtof(uw, NULL);
        if ((cfg->set_labels && n_lab != cfg->labels) || (cfg->set_unlabeled_weight && w != cfg->unlabeled_weight)) {
            snprintf(err, GANCL_ERR_LEN, "--labels/--unlabeled-weight conflict with the checkpoint (labels %s, "
                     "unlabeled_weight %s)\n  hint: leave them out to continue with the checkpoint's", lab, uw);
            return -1;
        }
        if (n_lab < 0 || n_lab % GANCL_CLASSES || !(w >= 0 && w <= 1000)) {
            snprintf(err, GANCL_ERR_LEN, "%s: implausible metadata (labels %s, unlabeled_weight %s)", ck->path, lab, uw);
            return -1;
        }
        cfg->labels = n_lab;
        cfg->unlabeled_weight = w;
    } else if (cfg->set_labels || cfg->set_unlabeled_weight) {
        snprintf(err, GANCL_ERR_LEN, "--labels/--unlabeled-weight apply only to ssgan checkpoints (this is a %s)", model);
        return -1;
    }
    cfg->conditional = arch.classes > 0;
    cfg->projection = arch.projection;
    cfg->ng = arch.ng;
    cfg->nd = arch.nd;
    memcpy(cfg->g_layers, arch.g, sizeof arch.g);
    memcpy(cfg->d_layers, arch.d, sizeof arch.d);
    gancl_step_config *st = &cfg->step;
    int li = -1;
    if (mo == GANCL_MODEL_SSGAN && loss && !strcmp(loss, "kplus1")) li = GANCL_LOSS_BCE; /* its own losses */
    for (int i = 0; loss && li < 0 && i < 4; i++)
        if (!strcmp(loss, gancl_loss_name((gancl_loss)i))) li = i;
    if (li < 0 || !opt || (strcmp(opt, "adam") && strcmp(opt, "rmsprop"))) {
        snprintf(err, GANCL_ERR_LEN, "%s: metadata has an unknown loss or optimizer", ck->path);
        return -1;
    }
    if ((cfg->set_loss && (int)st->loss != li) ||
        (cfg->set_optimizer && strcmp(opt, gancl_optimizer_name(st->optimizer)))) {
        snprintf(err, GANCL_ERR_LEN, "--loss/--optimizer conflict with the checkpoint (%s, %s)\n"
                 "  hint: leave them out to continue with the checkpoint's", loss, opt);
        return -1;
    }
    st->loss = (gancl_loss)li;
    st->optimizer = strcmp(opt, "adam") ? GANCL_OPT_RMSPROP : GANCL_OPT_ADAM;
    int n_critic = st->n_critic;
    struct { const char *key; int set; int *ival; float *fval; const char *flag; } fields[] = {
        {"latent_dim", cfg->set_latent, &cfg->latent, NULL, "--latent-dim"},
        {"batch_size", cfg->set_batch, &cfg->batch, NULL, "--batch-size"},
        {"n_critic", cfg->set_n_critic, &n_critic, NULL, "--n-critic"},
        {"lr_g", cfg->set_lr, NULL, &st->lr_g, "--lr"},
        {"lr_d", cfg->set_lr, NULL, &st->lr_d, "--lr"},
        {"beta1", cfg->set_beta1, NULL, &st->beta1, "--beta1"},
        {"beta2", cfg->set_beta2, NULL, &st->beta2, "--beta2"},
        {"eps", 0, NULL, &st->eps, ""},
        {"rmsprop_alpha", 0, NULL, &st->alpha, ""},
        {"clip", cfg->set_clip, NULL, &st->clip, "--clip"},
        {"gp_weight", cfg->set_gp_weight, NULL, &st->gp_weight, "--gp-weight"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        const char *v = gancl_meta_get(m, fields[i].key);
        if (!v) {
            snprintf(err, GANCL_ERR_LEN, "%s: metadata lacks '%s'", ck->path, fields[i].key);
            return -1;
        }
        float x = strtof(v, NULL);
        float have = fields[i].ival ? (float)*fields[i].ival : *fields[i].fval;
        if (fields[i].set && x != have) {
            snprintf(err, GANCL_ERR_LEN, "%s conflicts with the checkpoint (%s = %s)\n"
                     "  hint: leave %s out to continue with the checkpoint's value", fields[i].flag,
                     fields[i].key, v, fields[i].flag);
            return -1;
        }
        if (fields[i].ival) *fields[i].ival = atoi(v);
        else *fields[i].fval = x;
    }
    st->n_critic = n_critic;
    const float ema = gancl_checkpoint_ema(ck); /* checkpoints from before --ema have none */
    if (cfg->set_ema && ema != cfg->ema) {
        snprintf(err, GANCL_ERR_LEN, "--ema conflicts with the checkpoint (ema_decay = %g)\n"
                 "  hint: leave --ema out to continue with the checkpoint's", ema);
        return -1;
    }
    cfg->ema = ema;
    const char *seed = gancl_meta_get(m, "seed");
    if (!seed) {
        snprintf(err, GANCL_ERR_LEN, "%s: metadata lacks 'seed'", ck->path);
        return -1;
    }
    unsigned long long s = strtoull(seed, NULL, 10);
    if (cfg->set_seed && s != cfg->seed) {
        snprintf(err, GANCL_ERR_LEN, "--seed conflicts with the checkpoint (seed = %s)", seed);
        return -1;
    }
    cfg->seed = s;
    if (cfg->latent <= 0 || cfg->latent > 100000 || cfg->batch <= 0 || st->n_critic <= 0) {
        snprintf(err, GANCL_ERR_LEN, "%s: implausible metadata (latent_dim %d, batch_size %d, n_critic %d)",
                 ck->path, cfg->latent, cfg->batch, st->n_critic);
        return -1;
    }
    return 0;
}

static int prepare_dirs(trainer *t, char *err) {
    gancl_train_config *c = t->cfg;
    if (!c->out_dir[0]) {
        if (c->resume) {
            snprintf(c->out_dir, sizeof c->out_dir, "%s", c->resume);
            char *slash = strrchr(c->out_dir, '/');
            if (slash) *slash = 0;
            else strcpy(c->out_dir, ".");
        } else {
            time_t now = time(NULL);
            struct tm tm;
            localtime_r(&now, &tm);
            char stamp[32];
            strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
            snprintf(c->out_dir, sizeof c->out_dir, "runs/%s", stamp);
            struct stat st;
            for (int k = 2; stat(c->out_dir, &st) == 0; k++) /* two runs in one second */
                snprintf(c->out_dir, sizeof c->out_dir, "runs/%s-%d", stamp, k);
        }
    }
    snprintf(t->samples_dir, sizeof t->samples_dir, "%s/samples", c->out_dir);
    if (gancl_mkdirs(t->samples_dir, err)) return -1;
    snprintf(t->path_ckpt, sizeof t->path_ckpt, "%s/checkpoint.safetensors", c->out_dir);
    snprintf(t->path_csv, sizeof t->path_csv, "%s/metrics.csv", c->out_dir);
    snprintf(t->path_svg, sizeof t->path_svg, "%s/losses.svg", c->out_dir);
    return 0;
}

/* ssgan: the test error at an epoch's end, printed and put in the last metrics row. */
static void test_ssgan(trainer *t) {
    const double e = gancl_ssgan_test_error(&t->gan, t->test, NULL);
    t->test_error = e;
    t->tested_step = t->step;
    if (t->metrics.n) t->metrics.rows[t->metrics.n - 1].test_error = e;
    if (!t->cfg->quiet) {
        printf("%s  test error %.2f%% (%ld of %u test images named wrong)\n", t->tty ? "\r\033[K" : "", 100 * e,
               lround(e * t->test->images.count), t->test->images.count);
        fflush(stdout);
    }
}

int gancl_train(const gancl_runtime *rt, gancl_train_config *cfg, const gancl_dataset *train,
                const gancl_dataset *test, const gancl_scorer *scorer) {
    trainer t;
    memset(&t, 0, sizeof t);
    t.rt = rt;
    t.cfg = cfg;
    t.scorer = scorer;
    t.test = test;
    t.test_error = NAN;
    t.tty = isatty(STDOUT_FILENO);
    char err[GANCL_ERR_LEN];
    int status = 1;
    gancl_checkpoint ck;
    int have_ck = 0;
    if (cfg->resume) {
        if (gancl_checkpoint_open(cfg->resume, &ck, err) || adopt_checkpoint_config(cfg, &ck, err)) {
            if (ck.file) gancl_checkpoint_close(&ck);
            fprintf(stderr, "gan-cl: error: %s\n", err);
            return 1;
        }
        have_ck = 1;
    }
    t.n_images = (int)train->images.count;
    if (cfg->batch > t.n_images) {
        fprintf(stderr, "gan-cl: error: --batch-size %d is larger than the training set (%d images)\n",
                cfg->batch, t.n_images);
        goto out;
    }
    t.iters_per_epoch = t.n_images / cfg->batch;
    t.total_steps = t.lr_horizon = (long)cfg->epochs * t.iters_per_epoch;
    if (cfg->steps > 0 && cfg->steps < t.total_steps) t.total_steps = cfg->steps;
    const int ss = cfg->model == GANCL_MODEL_SSGAN;
    if (ss) {
        if (!test) gancl_die("the ssgan's test error needs the test set (a bug)");
        t.lab_idx = malloc((size_t)t.n_images * sizeof *t.lab_idx);
        if (!t.lab_idx) gancl_die("out of host memory");
        t.n_lab = gancl_ssgan_label_subset(train->labels.data, t.n_images, cfg->labels / GANCL_CLASSES, cfg->seed,
                                           t.lab_idx, err);
        if (t.n_lab < 0) {
            fprintf(stderr, "gan-cl: error: --labels %d: %s\n  hint: ask for fewer labels\n", cfg->labels, err);
            goto out;
        }
    }
    if (have_ck) {
        const char *n_img = gancl_meta_get(&ck.meta, "train_images");
        const char *st = gancl_meta_get(&ck.meta, "step");
        if (!n_img || atoi(n_img) != t.n_images || !st) {
            fprintf(stderr, "gan-cl: error: %s was trained on %s images, this data set has %d\n"
                    "  hint: resume with the same --data\n", cfg->resume, n_img ? n_img : "?", t.n_images);
            goto out;
        }
        t.step = atol(st);
    }
    if (prepare_dirs(&t, err)) {
        fprintf(stderr, "gan-cl: error: %s\n", err);
        goto out;
    }

    gancl_arch arch = gancl_train_arch(cfg);
    if (gancl_gan_init(&t.gan, rt, &arch, cfg->batch, grid_side(&arch) * grid_side(&arch),
                       cfg->step.loss == GANCL_LOSS_WGAN_GP, err)) {
        fprintf(stderr, "gan-cl: error: %s\n  hint: check --g-layers and --d-layers, or try a smaller --batch-size\n", err);
        goto out_gan;
    }
    if (cfg->ema > 0 && gancl_gan_enable_ema(&t.gan, cfg->ema, err)) {
        fprintf(stderr, "gan-cl: error: %s\n", err);
        goto out_gan;
    }
    if (have_ck) {
        if (gancl_checkpoint_load_into(&ck, &t.gan, err)) {
            fprintf(stderr, "gan-cl: error: %s\n", err);
            goto out_gan;
        }
        if (gancl_metrics_load(&t.metrics, t.path_csv, t.step, err))
            fprintf(stderr, "gan-cl: warning: earlier metrics not kept: %s\n", err);
    } else {
        gancl_gan_init_params(&t.gan, cfg->seed);
        if (ss) gancl_ssgan_data_init(&t.gan, train->images.data, t.n_images < SSGAN_INIT_ROWS ? t.n_images : SSGAN_INIT_ROWS,
                                      cfg->seed);
        gancl_gan_reset_ema(&t.gan);
    }
    /* the training set, once, as uint8; batches are gathered on the device */
    size_t img_bytes = (size_t)t.n_images * 784;
    t.images = gancl_buffer(rt, img_bytes);
    gancl_write(rt, t.images, 0, img_bytes, train->images.data);
    t.perm = gancl_buffer(rt, (size_t)t.n_images * sizeof(int));
    if (arch.classes) {
        t.labels = train->labels.data;
        t.perm_labels = gancl_buffer(rt, (size_t)t.n_images * sizeof(cl_int));
    }
    if (ss) {
        t.labels = train->labels.data;
        t.lab_order = gancl_buffer(rt, (size_t)t.n_images * sizeof(cl_int));
        t.lab_classes = gancl_buffer(rt, (size_t)t.n_images * sizeof(cl_int));
        t.perm2 = gancl_buffer(rt, (size_t)t.n_images * sizeof(cl_int));
    }
    const int nz = grid_side(&arch) * grid_side(&arch) * cfg->latent;
    t.fixed_z = gancl_buffer(rt, (size_t)nz * sizeof(float));
    gancl_ptr fz = {t.fixed_z, 0};
    gancl_gan_noise(&t.gan, fz, (size_t)nz, cfg->seed, 0, STREAM_FIXED_Z);
    if (write_config(&t, err)) {
        fprintf(stderr, "gan-cl: error: %s\n  hint: --out names a directory gan-cl can write to\n", err);
        goto out_bufs;
    }

    const long total = t.total_steps;
    if (t.step >= total) {
        fprintf(stderr, "gan-cl: nothing to do: the checkpoint is at step %ld, the target is step %ld\n"
                        "  hint: raise --epochs or --steps\n", t.step, total);
        status = 0;
        goto out_bufs;
    }
    if (!cfg->quiet) {
        size_t dev_bytes = gancl_gan_device_bytes(&t.gan) + img_bytes +
                           (size_t)t.n_images * sizeof(int) + (size_t)nz * sizeof(float);
        char what[96];
        if (ss && cfg->labels) snprintf(what, sizeof what, "semi-supervised GAN (%d labels)", t.n_lab);
        else snprintf(what, sizeof what, "%s", ss ? "semi-supervised GAN (all labels)"
                                               : cfg->model == GANCL_MODEL_DCGAN ? "DCGAN" : "MLP GAN");
        printf("training the %s on %s: %d images, batch %d, %d iterations per epoch, %s step %ld of %ld\n"
               "device memory: %.1f MiB (model %.1f MiB, training set %.1f MiB); outputs: %s\n",
               what, rt->dev.name, t.n_images, cfg->batch,
               t.iters_per_epoch, t.step ? "resuming at" : "from",
               t.step, total, dev_bytes / 1048576.0, gancl_gan_device_bytes(&t.gan) / 1048576.0,
               img_bytes / 1048576.0, cfg->out_dir);
    }
    fflush(stdout);

    const int B = cfg->batch;
    t.t_start = t.t_last_log = t.last_draw = now_s();
    t.step_last_log = t.saved_step = t.sampled_step = t.step;
    const long first_step = t.step;
    long perm_epoch = -1;
    int stopped = 0;
    gancl_signals_soft(1);
    while (t.step < total) {
        long epoch = t.step / t.iters_per_epoch, it = t.step % t.iters_per_epoch;
        if (epoch != perm_epoch) {
            upload_permutation(&t, epoch);
            perm_epoch = epoch;
        }
        if (ss)
            gancl_ssgan_iteration(&t.gan, &cfg->step, gancl_ssgan_lr(cfg->step.lr_d, t.step, t.lr_horizon), cfg->unlabeled_weight,
                                  t.images, t.lab_order, t.lab_classes, t.perm, t.perm2, (size_t)it * B, cfg->seed, t.step);
        else
            gancl_train_iteration(&t.gan, &cfg->step, t.images, t.perm, t.perm_labels, (size_t)it * B, cfg->seed,
                                  t.step);
        t.step++;
        int epoch_end = t.step % t.iters_per_epoch == 0;
        stopped = gancl_stop_requested() != 0;
        if (t.step % cfg->log_every == 0 || epoch_end || t.step == total || stopped) {
            if (log_step(&t)) {
                fprintf(stderr, "\ngan-cl: error: training diverged: a loss is NaN or infinite at step %ld "
                        "(D %.4g, G %.4g)\n  hint: the last good checkpoint is %s; try a lower --lr\n",
                        t.step, t.last.d_loss, t.last.g_loss, t.path_ckpt);
                (void)write_log_files(&t, err); /* the error above is the one to report */
                goto out_bufs;
            }
            if (t.step % (cfg->log_every * 10) == 0 && write_log_files(&t, err)) goto out_write;
        }
        double now = now_s();
        if (t.tty && !cfg->quiet && now - t.last_draw > 0.5) {
            CL_CHECK(clFinish(rt->queue)); /* so the count shown is what the device finished */
            double img_s = (t.step - first_step) * (double)B / (now_s() - t.t_start - t.score_s);
            draw_progress(&t, total, img_s);
            t.last_draw = now_s();
        }
        if (stopped) break;
        if (epoch_end) {
            long e = t.step / t.iters_per_epoch;
            if (!cfg->quiet) {
                double img_s = (t.step - first_step) * (double)B / (now_s() - t.t_start - t.score_s);
                char stats[160];
                format_stats(&t, stats, sizeof stats);
                printf("%sepoch %ld/%d  %.0f img/s  %s\n", t.tty ? "\r\033[K" : "", e, cfg->epochs,
                       img_s, stats);
                fflush(stdout);
            }
            if (ss) test_ssgan(&t);
            if (t.scorer && e % cfg->score_every == 0) score_samples(&t);
            if (e % cfg->sample_every == 0) {
                char name[32];
                snprintf(name, sizeof name, "epoch_%03ld", e);
                if (write_samples(&t, name, err) || write_progress(&t, err) || write_log_files(&t, err))
                    goto out_write;
            }
            if (e % cfg->checkpoint_every == 0 && save_checkpoint(&t, err)) goto out_write;
        }
    }
    gancl_signals_soft(0);
    CL_CHECK(clFinish(rt->queue));
    double secs = now_s() - t.t_start - t.score_s; /* training alone */
    /* a last score, unless the run is shorter than an epoch or was stopped */
    if (!stopped && t.scorer && t.scored_step != t.step && t.step >= t.iters_per_epoch) score_samples(&t);
    if (write_log_files(&t, err)) goto out_write;
    if (!stopped && t.sampled_step != t.step) {
        char name[32];
        snprintf(name, sizeof name, "step_%07ld", t.step);
        if (write_samples(&t, name, err) || write_progress(&t, err)) goto out_write;
    }
    if (t.saved_step != t.step && save_checkpoint(&t, err)) goto out_write;
    long trained = t.step - first_step;
    if (t.tty && !cfg->quiet) printf("\r\033[K");
    if (stopped) {
        printf("stopped by signal at step %ld; checkpoint saved: %s\n"
               "  resume with: gan-cl --resume %s\n", t.step, t.path_ckpt, t.path_ckpt);
        status = 130;
    } else {
        if (!cfg->quiet) {
            char stats[160];
            if (ss && isfinite(t.test_error))
                snprintf(stats, sizeof stats, "test error %.2f%% (at step %ld)", 100 * t.test_error, t.tested_step);
            else if (ss)
                snprintf(stats, sizeof stats, "labelled loss %.4f (no test error: the run ended before an epoch did)",
                         t.last.lab_loss);
            else
                snprintf(stats, sizeof stats, "D %.4f  G %.4f", t.last.d_loss, t.last.g_loss);
            printf("done: %ld iterations in %.1f s (%.0f img/s, %.2f s/epoch); %s\n", trained, secs,
                   trained * (double)B / secs, secs / ((double)trained / t.iters_per_epoch), stats);
            if (t.scorer) {
                char line[200];
                gancl_scores_line(&t.score, line, sizeof line);
                const double cost = t.score_s + t.scorer->ref_s; /* the reference's features too */
                printf("final scores (%d samples%s): %s\nscoring took %.0f s, %.0f%% of the run (the test set's "
                       "features %.0f s, %d scoring(s) %.0f s)\n", cfg->score_count,
                       t.gan.ema_decay ? ", EMA generator" : "", line, cost,
                       100 * cost / (now_s() - t.t_start + t.scorer->ref_s), t.scorer->ref_s, t.n_scored, t.score_s);
            }
            printf("outputs in %s: samples/, progress.png, metrics.csv, losses.svg, config.json, checkpoint.safetensors\n",
                   cfg->out_dir);
        }
        status = 0;
    }
    if (rt->prof) {
        rt->prof->wall_seconds = secs;
        gancl_prof_report(rt, stdout);
    }
    goto out_bufs;
out_write:
    output_failed(&t, err);
out_bufs:
    gancl_signals_soft(0);
    clReleaseMemObject(t.images);
    clReleaseMemObject(t.perm);
    clReleaseMemObject(t.fixed_z);
    if (t.perm_labels) clReleaseMemObject(t.perm_labels);
    cl_mem ss_bufs[] = {t.lab_order, t.lab_classes, t.perm2};
    for (int i = 0; i < 3; i++)
        if (ss_bufs[i]) clReleaseMemObject(ss_bufs[i]);
out_gan:
    gancl_gan_free(&t.gan);
out:
    free(t.lab_idx);
    gancl_metrics_free(&t.metrics);
    if (have_ck) gancl_checkpoint_close(&ck);
    return status;
}
