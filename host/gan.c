/* gan.c: a GAN's two networks and their buffers, and the objectives that connect them: the
 * GAN losses on D's outputs, the gradient penalty, and the training steps built from them
 * ("forward G, forward D, loss, backward"), whatever the tables hold.
 * Dimensions: B = batch, Z = latent, I = image pixels. */
#include "gancl/gan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gancl_step_config gancl_step_defaults(gancl_loss loss) {
    gancl_step_config c = {loss, GANCL_OPT_ADAM, 2e-4f, 2e-4f, 0.5f, 0.999f, 1e-8f, 0.99f, 0.0f, 0.0f, 1};
    if (loss == GANCL_LOSS_WGAN) {
        c.optimizer = GANCL_OPT_RMSPROP;
        c.lr_g = c.lr_d = 5e-5f;
        c.clip = 0.01f;
        c.n_critic = 5;
    } else if (loss == GANCL_LOSS_WGAN_GP) {
        c.lr_g = c.lr_d = 1e-4f;
        c.beta2 = 0.9f;
        c.gp_weight = 10.0f;
        c.n_critic = 5;
    }
    return c;
}

const char *gancl_loss_name(gancl_loss loss) {
    static const char *names[] = {"bce", "wgan", "wgan-gp", "hinge"};
    return names[loss];
}

const char *gancl_optimizer_name(gancl_optimizer opt) { return opt == GANCL_OPT_RMSPROP ? "rmsprop" : "adam"; }

#define STREAM_G_MASKS 0x70000u /* G's dropout and noise; D's use net.h's default 0x60000 */
#define STREAM_GP 0x40000u

static const gancl_ptr NONE = {NULL, 0};

int gancl_gan_init(gancl_gan *gan, const gancl_runtime *rt, const gancl_arch *arch, int batch, int g_rows,
                   int gp, char *err) {
    memset(gan, 0, sizeof *gan);
    gan->rt = rt;
    gan->arch = *arch;
    gan->batch = batch;
    const int ss = arch->model == GANCL_MODEL_SSGAN;
    gan->d_rows = (gp || ss ? 3 : 2) * batch;
    gan->g_rows = g_rows > batch ? g_rows : batch;
    if (gancl_model_build(arch, &gan->g, &gan->d, err) || (gp && gancl_net_tangent_ok(&gan->d, err))) return -1;
    gancl_net_layout(&gan->g, gan->g_rows, batch, 0);
    gancl_net_layout(&gan->d, gan->d_rows, gan->d_rows, gp ? batch : 0);
    /* one scratch for both networks' convolutions: col, then tmp */
    size_t col = gan->g.col_size > gan->d.col_size ? gan->g.col_size : gan->d.col_size;
    size_t tmp = gan->g.tmp_size > gan->d.tmp_size ? gan->g.tmp_size : gan->d.tmp_size;
    const int B = batch, R = gan->g_rows, Z = arch->latent, I = arch->image;
    const size_t DR = (size_t)gan->d_rows;
    size_t o = 0;
#define TAKE(field, n) (gan->field = o, o += (size_t)(n))
    TAKE(z, (size_t)R * Z);
    TAKE(g_out, (size_t)R * I);
    TAKE(d_x, DR * I);
    TAKE(d_dx, (size_t)B * I);
    const size_t OUT = (size_t)gan->d.out_shape.c; /* 1, or the ssgan's 10 logits */
    TAKE(d_logit, DR * OUT);
    TAKE(d_dlogit, DR * OUT);
    TAKE(gp_sq, gp ? B : ss ? gan->d.x_feat[0] : 0); /* ssgan: at most D's widest features */
#undef TAKE
    gan->io_size = o;
    /* every buffer below, in floats: checked against the device before any is created */
    const size_t label_rows = (size_t)(gan->d_rows > gan->g_rows ? gan->d_rows : gan->g_rows);
    const size_t need[] = {gan->g.acts_size, 4 * gan->g.params.size, gan->g.running.size, gan->d.acts_size,
                           4 * gan->d.params.size, gan->d.running.size, col + tmp, o, GANCL_ACC_N,
                           arch->classes || ss ? label_rows : 0};
    double total = 0, largest = 0;
    for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
        total += 4.0 * need[i];
        if (4.0 * need[i] > largest) largest = 4.0 * need[i];
    }
    if (total > (double)rt->dev.global_mem || largest > (double)rt->dev.max_alloc) {
        snprintf(err, GANCL_ERR_LEN,
                 "these networks at batch %d need %.1f MiB of device memory, %.1f MiB in the largest buffer; "
                 "%s has %.1f MiB, at most %.1f MiB per buffer", batch, total / 1048576, largest / 1048576,
                 rt->dev.name, rt->dev.global_mem / 1048576.0, rt->dev.max_alloc / 1048576.0);
        return -1;
    }
    gancl_net_alloc(&gan->g, rt, gan->g_rows, batch, 0);
    gancl_net_alloc(&gan->d, rt, gan->d_rows, gan->d_rows, gp ? batch : 0);
    gan->g.stream_base = STREAM_G_MASKS;
    gan->scratch_size = col + tmp;
    gan->scratch = gancl_buffer(rt, (col + tmp ? col + tmp : 1) * sizeof(float));
    gancl_ptr pc = {gan->scratch, 0}, pt = {gan->scratch, col};
    gancl_net_bind_scratch(&gan->g, pc, pt);
    gancl_net_bind_scratch(&gan->d, pc, pt);
    gan->io = gancl_buffer(rt, o * sizeof(float));
    gan->acc = gancl_buffer(rt, GANCL_ACC_N * sizeof(float));
    float zero = 0.0f;
    CL_CHECK(clEnqueueFillBuffer(rt->queue, gan->io, &zero, sizeof zero, 0, o * sizeof(float), 0, NULL, NULL));
    CL_CHECK(clEnqueueFillBuffer(rt->queue, gan->acc, &zero, sizeof zero, 0, GANCL_ACC_N * sizeof(float), 0, NULL, NULL));
    if (arch->classes || ss) { /* the ssgan's: its labelled rows' classes */
        gan->labels = gancl_buffer(rt, label_rows * sizeof(cl_int));
        const cl_int none = 0;
        CL_CHECK(clEnqueueFillBuffer(rt->queue, gan->labels, &none, sizeof none, 0, label_rows * sizeof(cl_int), 0,
                                     NULL, NULL));
        gan->g.labels = gan->d.labels = gan->labels;
    }
    return 0;
}

void gancl_gan_set_labels(gancl_gan *gan, const int *labels, int n) {
    cl_int *l = malloc((size_t)n * sizeof *l);
    if (!l) gancl_die("out of host memory");
    for (int i = 0; i < n; i++) l[i] = labels[i];
    gancl_write(gan->rt, gan->labels, 0, (size_t)n * sizeof *l, l);
    free(l);
}

/* Rows [0, n) get class i % classes. */
static void balanced_labels(gancl_gan *gan, int n) {
    int *l = malloc((size_t)n * sizeof *l);
    if (!l) gancl_die("out of host memory");
    for (int i = 0; i < n; i++) l[i] = i % gan->arch.classes;
    gancl_gan_set_labels(gan, l, n);
    free(l);
}

void gancl_gan_batch_labels(gancl_gan *gan, cl_mem perm_labels, size_t off) {
    const size_t bytes = (size_t)gan->batch * sizeof(cl_int);
    for (int copy = 0; copy * gan->batch < gan->d_rows; copy++)
        CL_CHECK(clEnqueueCopyBuffer(gan->rt->queue, perm_labels, gan->labels, off * sizeof(cl_int), copy * bytes,
                                     bytes, 0, NULL, NULL));
}

int gancl_gan_enable_ema(gancl_gan *gan, float decay, char *err) {
    if (!(decay > 0 && decay < 1)) {
        snprintf(err, GANCL_ERR_LEN, "the EMA decay must lie in (0, 1), not %g", decay);
        return -1;
    }
    if (gancl_net_build(&gan->g_ema, "generator_ema", gan->g.in_shape, gan->g.layer, gan->g.n_layers, err)) return -1;
    gancl_net_alloc(&gan->g_ema, gan->rt, gan->g_rows, 0, 0);
    gancl_net_bind_scratch(&gan->g_ema, gan->g.col, gan->g.tmp);
    gan->g_ema.stream_base = gan->g.stream_base;
    gan->g_ema.labels = gan->labels;
    gan->ema_decay = decay;
    gancl_gan_reset_ema(gan);
    return 0;
}

void gancl_gan_reset_ema(gancl_gan *gan) {
    if (!gan->ema_decay) return;
    const cl_command_queue q = gan->rt->queue;
    const gancl_net *g = &gan->g, *e = &gan->g_ema;
    CL_CHECK(clEnqueueCopyBuffer(q, g->buf, e->buf, 0, 0, g->params.size * sizeof(float), 0, NULL, NULL));
    if (g->running.size)
        CL_CHECK(clEnqueueCopyBuffer(q, g->running_buf, e->running_buf, 0, 0, g->running.size * sizeof(float), 0,
                                     NULL, NULL));
    gan->g_ema.step = gan->g.step;
    gan->ema_stats_fresh = 0;
}

float gancl_ema_decay_at(float decay, long step) {
    const float warm = (float)((1.0 + step) / (10.0 + step));
    return warm < decay ? warm : decay;
}

/* After a G step: the average follows G. */
static void ema_step(gancl_gan *gan) {
    if (!gan->ema_decay) return;
    const gancl_net *g = &gan->g;
    const float decay = gancl_ema_decay_at(gan->ema_decay, g->step);
    gancl_ptr avg = {gan->g_ema.buf, 0}, x = {g->buf, 0};
    ema_update(gan->rt, avg, x, g->params.size, decay);
    gan->g_ema.step = g->step;
    gan->ema_stats_fresh = 0;
}

void gancl_gan_refresh_ema_stats(gancl_gan *gan, uint64_t seed) {
    if (!gan->ema_decay || gan->ema_stats_fresh) return;
    gancl_net *e = &gan->g_ema;
    if (!e->running.size) { /* no BatchNorm: nothing to recompute */
        gan->ema_stats_fresh = 1;
        return;
    }
    float momentum[GANCL_MAX_LAYERS];
    for (int i = 0; i < e->n_ops; i++) momentum[i] = e->op[i].momentum;
    if (gan->arch.classes) balanced_labels(gan, gan->g_rows);
    for (int k = 0; k < GANCL_EMA_STAT_PASSES; k++) {
        /* momentum 1 / (k + 1): after pass k, the mean of the passes' batch statistics */
        for (int i = 0; i < e->n_ops; i++) e->op[i].momentum = 1.0f / (float)(k + 1);
        gancl_gan_noise(gan, gancl_gan_io(gan, gan->z), (size_t)gan->g_rows * gan->arch.latent, seed, (uint32_t)e->step,
                        GANCL_STREAM_EMA_STATS | (uint32_t)k | (uint32_t)((unsigned long)e->step >> 32) << 8);
        gancl_net_forward(e, gancl_gan_io(gan, gan->g_out), gancl_gan_io(gan, gan->z), 0, gan->g_rows, 1);
    }
    for (int i = 0; i < e->n_ops; i++) e->op[i].momentum = momentum[i];
    gan->ema_stats_fresh = 1;
}

void gancl_gan_free(gancl_gan *gan) {
    gancl_net_free(&gan->g);
    if (gan->ema_decay) gancl_net_free(&gan->g_ema);
    gancl_net_free(&gan->d);
    cl_mem mems[] = {gan->io, gan->scratch, gan->acc, gan->labels};
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (mems[i]) clReleaseMemObject(mems[i]);
    memset(gan, 0, sizeof *gan);
}

size_t gancl_gan_device_bytes(const gancl_gan *gan) {
    return gancl_net_device_bytes(&gan->g) + gancl_net_device_bytes(&gan->d) +
           (gan->ema_decay ? gancl_net_device_bytes(&gan->g_ema) : 0) +
           sizeof(float) * (gan->io_size + gan->scratch_size + GANCL_ACC_N);
}

static void upload_init(const gancl_net *net, const float *buf4, const float *running) {
    gancl_write(net->rt, net->buf, 0, 4 * net->params.size * sizeof *buf4, buf4);
    if (net->running.size) gancl_write(net->rt, net->running_buf, 0, net->running.size * sizeof *running, running);
}

void gancl_gan_init_params(gancl_gan *gan, uint64_t seed) {
    uint64_t rng = seed ^ 0x6a09e667f3bcc908ull;
    gancl_net *nets[2] = {&gan->g, &gan->d};
    for (int k = 0; k < 2; k++) {
        gancl_net *net = nets[k];
        float *buf = calloc(4 * net->params.size + 1, sizeof *buf), *run = calloc(net->running.size + 1, sizeof *run);
        if (!buf || !run) gancl_die("out of host memory");
        gancl_net_init_host(net, buf, run, &rng);
        upload_init(net, buf, run);
        net->step = 0;
        free(buf);
        free(run);
    }
}

void gancl_gan_set_noise(gancl_gan *gan, uint64_t seed, long step, int stream) {
    gancl_net *nets[2] = {&gan->g, &gan->d};
    for (int k = 0; k < 2; k++) {
        nets[k]->noise_seed = seed;
        nets[k]->noise_step = step;
        nets[k]->noise_stream = stream;
    }
}

gancl_ptr gancl_gan_io(const gancl_gan *gan, size_t off) {
    gancl_ptr p = {gan->io, off};
    return p;
}

#define A(off) gancl_gan_io(gan, (off))

void gancl_gan_noise(const gancl_gan *gan, gancl_ptr out, size_t n, uint64_t seed, uint32_t c1, uint32_t c2) {
    if (gancl_arch_unit_pixels(&gan->arch)) randu_fill(gan->rt, out, n, (uint32_t)seed, (uint32_t)(seed >> 32), c1, c2);
    else randn_fill(gan->rt, out, n, (uint32_t)seed, (uint32_t)(seed >> 32), c1, c2);
}

void gancl_gan_signed_pixels(const gancl_gan *gan, float *img, size_t n) {
    if (!gancl_arch_unit_pixels(&gan->arch)) return;
    for (size_t i = 0; i < n; i++) img[i] = 2.0f * img[i] - 1.0f;
}

void gancl_gan_generate(gancl_gan *gan, gancl_ptr out, int n, int training) {
    gancl_net_forward(&gan->g, out, A(gan->z), 0, n, training);
}

void gancl_gan_sample(gancl_gan *gan, gancl_ptr out, int n) {
    if (gan->ema_decay && !gan->ema_stats_fresh) gancl_die("the EMA generator's statistics are stale (a bug)");
    gancl_net_forward(gan->ema_decay ? &gan->g_ema : &gan->g, out, A(gan->z), 0, n, 0);
}

void gancl_gan_sample_images(gancl_gan *gan, int count, uint64_t seed, const int *labels, float *img) {
    const int I = gan->arch.image, chunk = gan->g_rows < GANCL_SAMPLE_CHUNK ? gan->g_rows : GANCL_SAMPLE_CHUNK;
    gancl_ptr z = A(gan->z), out = A(gan->g_out);
    int *chunk_labels = gan->arch.classes ? malloc((size_t)chunk * sizeof *chunk_labels) : NULL;
    if (gan->arch.classes && !chunk_labels) gancl_die("out of host memory");
    for (int done = 0, k = 0; done < count; done += chunk, k++) {
        const int n = count - done < chunk ? count - done : chunk;
        if (chunk_labels) {
            for (int i = 0; i < n; i++) chunk_labels[i] = labels ? labels[done + i] : (done + i) % gan->arch.classes;
            gancl_gan_set_labels(gan, chunk_labels, n);
        }
        gancl_gan_noise(gan, z, (size_t)n * gan->arch.latent, seed, (uint32_t)k, GANCL_STREAM_SAMPLES);
        gancl_gan_sample(gan, out, n);
        gancl_read(gan->rt, gan->io, out.off * sizeof(float), (size_t)n * I * sizeof(float), img + (size_t)done * I);
        gancl_gan_signed_pixels(gan, img + (size_t)done * I, (size_t)n * I);
    }
    free(chunk_labels);
}

/* G's parameter gradients from dout [B, image] (overwritten); out is G's output. */
static void generator_backward(gancl_gan *gan, gancl_ptr dout, gancl_ptr out) {
    gancl_net_backward(&gan->g, NONE, dout, out, A(gan->z), 0, gan->batch, 1);
}

/* D on rows [row0, row0 + n) of d_x into d_logit. */
static void discriminator_forward(gancl_gan *gan, int row0, int n) {
    gancl_net_forward(&gan->d, A(gan->d_logit + row0), A(gan->d_x + (size_t)row0 * gan->arch.image), row0, n, 1);
}

/* D's backward from d_dlogit rows [row0, row0 + n): parameter gradients when `dweights`,
 * the input gradient into d_dx (rows must then be the fakes or interpolates) when `dinput`. */
static void discriminator_backward(gancl_gan *gan, int row0, int n, int dweights, int dinput) {
    gancl_net_backward(&gan->d, dinput ? A(gan->d_dx) : NONE, A(gan->d_dlogit + row0), A(gan->d_logit + row0),
                       A(gan->d_x + (size_t)row0 * gan->arch.image), row0, n, dweights);
}

void gancl_gan_optimize(gancl_gan *gan, gancl_net *net, float lr, const gancl_step_config *cfg) {
    const size_t n = net->params.size;
    ++net->step;
    if (cfg->optimizer == GANCL_OPT_RMSPROP) rmsprop_update(gan->rt, net->buf, n, lr, cfg->alpha, cfg->eps);
    else adam_update(gan->rt, net->buf, n, lr, cfg->beta1, cfg->beta2, cfg->eps, net->step);
    if (net == &gan->g) ema_step(gan);
}

/* The G loss on D's outputs for the fakes (rows [B, 2B)): BCE(D(G(z)), 1) for bce, else
 * -mean(D(G(z))). */
static void generator_loss(gancl_gan *gan, const gancl_step_config *cfg, int stat_slot) {
    const int B = gan->batch;
    int bce = cfg->loss == GANCL_LOSS_BCE;
    gan_loss_forward_backward(gan->rt, A(gan->d_dlogit + B), A(gan->d_logit + B), B,
                              bce ? GANCL_LOSS_KIND_BCE : GANCL_LOSS_KIND_LINEAR, bce ? 1.0f : -1.0f,
                              1.0f / B, gan->acc, GANCL_ACC_G_LOSS, 1.0f, stat_slot);
}

/* The D loss on rows [0, 2B) (real, fake):
 * bce: (BCE(D(x), 1) + BCE(D(G(z)), 0)) / 2; wgan, wgan-gp: mean D(G(z)) - mean D(x);
 * hinge: mean max(0, 1 - D(x)) + mean max(0, 1 + D(G(z))). */
static void discriminator_loss(gancl_gan *gan, const gancl_step_config *cfg, int fake_stat) {
    const gancl_runtime *rt = gan->rt;
    const int B = gan->batch;
    gancl_loss_kind kind = cfg->loss == GANCL_LOSS_BCE     ? GANCL_LOSS_KIND_BCE
                           : cfg->loss == GANCL_LOSS_HINGE ? GANCL_LOSS_KIND_HINGE
                                                           : GANCL_LOSS_KIND_LINEAR;
    float w = cfg->loss == GANCL_LOSS_BCE ? 0.5f : 1.0f;
    float y_real = kind == GANCL_LOSS_KIND_BCE ? 1.0f : -1.0f, y_fake = kind == GANCL_LOSS_KIND_BCE ? 0.0f : 1.0f;
    gan_loss_forward_backward(rt, A(gan->d_dlogit), A(gan->d_logit), B, kind, y_real, w / B, gan->acc,
                              GANCL_ACC_D_LOSS, w, GANCL_ACC_D_REAL);
    gan_loss_forward_backward(rt, A(gan->d_dlogit + B), A(gan->d_logit + B), B, kind, y_fake, w / B,
                              gan->acc, GANCL_ACC_D_LOSS, w, fake_stat);
}

void gancl_gan_step(gancl_gan *gan, const gancl_step_config *cfg) {
    const gancl_runtime *rt = gan->rt;
    const int B = gan->batch, I = gan->arch.image;
    gancl_ptr fake = A(gan->d_x + (size_t)B * I); // D's rows [B, 2B)

    // ---- G step ----
    gancl_gan_generate(gan, fake, B, 1);
    // D on the real rows too: D does not change before the D step, which reuses both halves,
    // and one GEMM over 2B rows runs faster than two over B
    discriminator_forward(gan, 0, 2 * B);
    generator_loss(gan, cfg, GANCL_ACC_D_FAKE);
    discriminator_backward(gan, B, B, 0, 1); // only dL/dfake, into d_dx
    zero_grads(rt, gan->g.buf, gan->g.params.size);
    generator_backward(gan, A(gan->d_dx), fake);
    gancl_gan_optimize(gan, &gan->g, cfg->lr_g, cfg);

    // ---- D step, on the forward pass above ----
    discriminator_loss(gan, cfg, -1);
    zero_grads(rt, gan->d.buf, gan->d.params.size);
    discriminator_backward(gan, 0, 2 * B, 1, 0);
    gancl_gan_optimize(gan, &gan->d, cfg->lr_d, cfg);
}

void gancl_gan_critic_step(gancl_gan *gan, const gancl_step_config *cfg, uint64_t seed, long step) {
    const gancl_runtime *rt = gan->rt;
    const int B = gan->batch, I = gan->arch.image, gp = cfg->loss == GANCL_LOSS_WGAN_GP;
    gancl_ptr real = A(gan->d_x), fake = A(gan->d_x + (size_t)B * I), xhat = A(gan->d_x + (size_t)2 * B * I);
    if (gp && gan->d_rows < 3 * B) gancl_die("the model was set up without room for the gradient penalty");
    gancl_gan_generate(gan, fake, B, 1);
    if (gp)
        gp_interpolate(rt, xhat, real, fake, B, I, (uint32_t)seed, (uint32_t)(seed >> 32), (uint32_t)step,
                       STREAM_GP | (uint32_t)(step >> 32));
    discriminator_forward(gan, 0, (gp ? 3 : 2) * B);
    discriminator_loss(gan, cfg, GANCL_ACC_D_FAKE);
    zero_grads(rt, gan->d.buf, gan->d.params.size);
    if (gp) {
        // g = grad_x D(xhat) into d_dx, then u = dGP/dg in place, then dGP/dtheta
        gancl_ptr ones = A(gan->d_dlogit + 2 * B), sq = A(gan->gp_sq);
        gan_loss_forward_backward(rt, ones, A(gan->d_logit + 2 * B), B, GANCL_LOSS_KIND_LINEAR, 1.0f,
                                  1.0f, gan->acc, -1, 0.0f, -1);
        discriminator_backward(gan, 2 * B, B, 0, 1);
        gp_direction(rt, A(gan->d_dx), sq, B, I, cfg->gp_weight);
        gp_sum(rt, gan->acc, GANCL_ACC_GP, sq, B, cfg->gp_weight);
        gp_sum(rt, gan->acc, GANCL_ACC_D_LOSS, sq, B, cfg->gp_weight);
        // the penalty's parameter gradient: the tangent u through D and back (net.h)
        gan_loss_forward_backward(rt, ones, A(gan->d_logit + 2 * B), B, GANCL_LOSS_KIND_LINEAR, 1.0f, 1.0f,
                                  gan->acc, -1, 0.0f, -1);
        gancl_net_tangent(&gan->d, ones, A(gan->d_logit + 2 * B), A(gan->d_dx), 2 * B, B);
    }
    discriminator_backward(gan, 0, 2 * B, 1, 0);
    gancl_gan_optimize(gan, &gan->d, cfg->lr_d, cfg);
    if (cfg->loss == GANCL_LOSS_WGAN) clip_params(rt, gan->d.buf, gan->d.params.size, cfg->clip);
}

void gancl_gan_generator_step(gancl_gan *gan, const gancl_step_config *cfg) {
    const gancl_runtime *rt = gan->rt;
    const int B = gan->batch, I = gan->arch.image;
    gancl_ptr fake = A(gan->d_x + (size_t)B * I);
    gancl_gan_generate(gan, fake, B, 1);
    discriminator_forward(gan, B, B);
    generator_loss(gan, cfg, -1);
    discriminator_backward(gan, B, B, 0, 1);
    zero_grads(rt, gan->g.buf, gan->g.params.size);
    generator_backward(gan, A(gan->d_dx), fake);
    gancl_gan_optimize(gan, &gan->g, cfg->lr_g, cfg);
}
