/* gan.c: the MLP GAN: parameter tables, buffers, G and D forward/backward and one training
 * iteration. Dimensions: B = batch, Z = latent, H = hidden widths, I = image pixels. */
#include "gancl/gan.h"
#include "gan_access.h"
#include "gancl/profile.h"
#include "gancl/selftest.h"

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

gancl_gan_dims gancl_gan_default_dims(int latent) {
    gancl_gan_dims d = {GANCL_MODEL_MLP, latent, 784, {256, 512, 1024}, {512, 256}, 0.2f, 1e-3f, 0.2f, 0.0f};
    return d;
}

gancl_gan_dims gancl_gan_dcgan_dims(int latent) {
    gancl_gan_dims d = {GANCL_MODEL_DCGAN, latent, 784, {256, 128, 64}, {64, 128}, 0.3f, 1e-3f, 0.01f, 0.3f};
    return d;
}

const char *gancl_model_name(gancl_model model) { return model == GANCL_MODEL_DCGAN ? "dcgan" : "mlp"; }

void gancl_table_add(gancl_param_table *t, const char *name, int d0, int d1, int d2, int d3,
                     float bound, float value) {
    if (t->n >= GANCL_MAX_TENSORS) gancl_die("too many tensors");
    gancl_tensor_info *ti = &t->t[t->n++];
    snprintf(ti->name, sizeof ti->name, "%s", name);
    int d[4] = {d0, d1, d2, d3};
    ti->ndim = 0;
    ti->numel = 1;
    for (int k = 0; k < 4 && d[k]; k++) {
        ti->shape[ti->ndim++] = d[k];
        ti->numel *= (size_t)d[k];
    }
    ti->off = t->size;
    ti->init_bound = bound;
    ti->init_value = value;
    t->size += ti->numel;
}

/* A Linear layer's weight [out, in] and bias [out], initialised as PyTorch does. */
static void add_linear(gancl_param_table *t, const char *prefix, int out, int in) {
    char name[64];
    float bound = 1.0f / sqrtf((float)in);
    snprintf(name, sizeof name, "%s.weight", prefix);
    gancl_table_add(t, name, out, in, 0, 0, bound, 0);
    snprintf(name, sizeof name, "%s.bias", prefix);
    gancl_table_add(t, name, out, 0, 0, 0, bound, 0);
}

/* Tensor index in G's table: per hidden layer i, weight 4i, bias 4i+1, BatchNorm gamma 4i+2,
 * beta 4i+3 (adjacent, as the batchnorm kernels expect); the output layer 12 and 13.
 * Names are those of the equivalent nn.Sequential: Linear at 0, 3, 6, 9; BatchNorm at 2, 5, 8. */
static void build_tables(gancl_gan *gan) {
    const gancl_gan_dims *d = &gan->dims;
    char name[64];
    int in = d->latent;
    for (int i = 0; i < 3; i++) {
        int h = d->g_hidden[i];
        snprintf(name, sizeof name, "generator.%d", 3 * i);
        add_linear(&gan->g, name, h, in);
        snprintf(name, sizeof name, "generator.%d.weight", 3 * i + 2);
        gancl_table_add(&gan->g, name, h, 0, 0, 0, 0, 1.0f);
        snprintf(name, sizeof name, "generator.%d.bias", 3 * i + 2);
        gancl_table_add(&gan->g, name, h, 0, 0, 0, 0, 0.0f);
        snprintf(name, sizeof name, "generator.%d.running_mean", 3 * i + 2);
        gancl_table_add(&gan->g_running, name, h, 0, 0, 0, 0, 0.0f);
        snprintf(name, sizeof name, "generator.%d.running_var", 3 * i + 2);
        gancl_table_add(&gan->g_running, name, h, 0, 0, 0, 0, 1.0f);
        gan->g_feat[i] = gan->bn_feat[i] = h;
        in = h;
    }
    add_linear(&gan->g, "generator.9", d->image, in);
    in = d->image;
    for (int i = 0; i < 3; i++) {
        int out = i < 2 ? d->d_hidden[i] : 1;
        snprintf(name, sizeof name, "discriminator.%d", 2 * i);
        add_linear(&gan->d, name, out, in);
        if (i < 2) gan->d_feat[i] = out;
        in = out;
    }
}

void gancl_gan_init(gancl_gan *gan, const gancl_runtime *rt, gancl_gan_dims dims, int batch,
                    int g_rows, int gp) {
    memset(gan, 0, sizeof *gan);
    gan->rt = rt;
    gan->dims = dims;
    gan->batch = batch;
    gan->d_rows = (gp ? 3 : 2) * batch;
    gan->g_rows = g_rows > batch ? g_rows : batch;
    size_t col_n = 0, tmp_n = 0;
    if (dims.model == GANCL_MODEL_DCGAN) {
        dcgan_build_tables(gan);
        dcgan_sizes(gan, &col_n, &tmp_n);
    } else {
        build_tables(gan);
    }
    const int B = batch, R = gan->g_rows, Z = dims.latent, I = dims.image;
    size_t o = 0;
#define TAKE(field, n) (gan->field = o, o += (size_t)(n))
    TAKE(z, (size_t)R * Z);
    for (int i = 0; i < 3; i++) {
        TAKE(g_a[i], (size_t)R * gan->g_feat[i]);
        TAKE(g_x[i], (size_t)R * gan->g_feat[i]);
        TAKE(g_saved[i], 2 * gan->bn_feat[i]);
        TAKE(g_d[i], (size_t)B * gan->g_feat[i]);
    }
    TAKE(col, col_n);
    TAKE(tmp, tmp_n);
    TAKE(g_out, (size_t)R * I);
    const size_t DR = (size_t)gan->d_rows;
    TAKE(d_x, DR * I);
    TAKE(d_dx, (size_t)B * I);
    for (int i = 0; i < 2; i++) {
        TAKE(d_h[i], DR * gan->d_feat[i]);
        TAKE(d_dh[i], DR * gan->d_feat[i]);
        TAKE(d_tan[i], gp ? (size_t)B * gan->d_feat[i] : 0);
    }
    TAKE(d_logit, DR);
    TAKE(d_dlogit, DR);
    TAKE(gp_sq, gp ? B : 0);
#undef TAKE
    gan->acts_size = o;
    gan->acts = gancl_buffer(rt, o * sizeof(float));
    gan->g_buf = gancl_buffer(rt, 4 * gan->g.size * sizeof(float));
    gan->d_buf = gancl_buffer(rt, 4 * gan->d.size * sizeof(float));
    gan->running = gancl_buffer(rt, gan->g_running.size * sizeof(float));
    gan->acc = gancl_buffer(rt, GANCL_ACC_N * sizeof(float));
    float zero = 0.0f;
    CL_CHECK(clEnqueueFillBuffer(rt->queue, gan->acts, &zero, sizeof zero, 0, o * sizeof(float), 0, NULL, NULL));
    CL_CHECK(clEnqueueFillBuffer(rt->queue, gan->acc, &zero, sizeof zero, 0, GANCL_ACC_N * sizeof(float), 0, NULL, NULL));
}

void gancl_gan_free(gancl_gan *gan) {
    cl_mem mems[] = {gan->acts, gan->g_buf, gan->d_buf, gan->running, gan->acc};
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (mems[i]) clReleaseMemObject(mems[i]);
    memset(gan, 0, sizeof *gan);
}

size_t gancl_gan_device_bytes(const gancl_gan *gan) {
    return sizeof(float) * (gan->acts_size + 4 * gan->g.size + 4 * gan->d.size +
                            gan->g_running.size + GANCL_ACC_N);
}

static void init_table(float *p, const gancl_param_table *t, uint64_t *rng) {
    for (int i = 0; i < t->n; i++) {
        const gancl_tensor_info *ti = &t->t[i];
        for (size_t k = 0; k < ti->numel; k++)
            p[ti->off + k] = ti->init_bound > 0 ? gancl_uniform(rng, -ti->init_bound, ti->init_bound)
                                                : ti->init_value;
    }
}

void gancl_gan_init_params(gancl_gan *gan, uint64_t seed) {
    const gancl_runtime *rt = gan->rt;
    uint64_t rng = seed ^ 0x6a09e667f3bcc908ull;
    size_t gn = gan->g.size, dn = gan->d.size;
    float *g = calloc(4 * gn, sizeof *g), *d = calloc(4 * dn, sizeof *d);
    float *run = malloc(gan->g_running.size * sizeof *run);
    if (!g || !d || !run) gancl_die("out of host memory");
    init_table(g, &gan->g, &rng);
    init_table(d, &gan->d, &rng);
    init_table(run, &gan->g_running, &rng);
    gancl_write(rt, gan->g_buf, 0, 4 * gn * sizeof *g, g);
    gancl_write(rt, gan->d_buf, 0, 4 * dn * sizeof *d, d);
    gancl_write(rt, gan->running, 0, gan->g_running.size * sizeof *run, run);
    gan->g_step = gan->d_step = 0;
    free(g);
    free(d);
    free(run);
}

gancl_ptr gancl_gan_act(const gancl_gan *gan, size_t off) {
    gancl_ptr p = {gan->acts, off};
    return p;
}

gancl_ptr gancl_gan_param(cl_mem buf, const gancl_param_table *t, int index, int which) {
    gancl_ptr p = {buf, (size_t)which * t->size + t->t[index].off};
    return p;
}


void gan_generator_forward(gancl_gan *gan, gancl_ptr out, int n, int training) {
    if (gan->dims.model == GANCL_MODEL_DCGAN) {
        dcgan_generator_forward(gan, out, n, training);
        return;
    }
    const gancl_runtime *rt = gan->rt;
    const gancl_gan_dims *d = &gan->dims;
    gancl_ptr running = {gan->running, 0};
    gancl_ptr x = A(gan->z); // [n, Z]
    int in = d->latent;
    for (int i = 0; i < 3; i++) {
        int h = d->g_hidden[i];
        // a_i[n, h] = x @ W^T, then in one kernel a_i = leaky(a_i + b), x_{i+1} = batchnorm(a_i)
        linear_forward(rt, A(gan->g_a[i]), x, GP(4 * i), NONE, n, in, h, GANCL_ACT_NONE, 0.0f);
        batchnorm_forward(rt, A(gan->g_x[i]), A(gan->g_a[i]), GP(4 * i + 1), GP(4 * i + 2),
                          A(gan->g_saved[i]), gancl_at(running, gan->g_running.t[2 * i].off), n, h,
                          d->bn_eps, d->bn_momentum, training, GANCL_ACT_LEAKY, d->slope, 1);
        x = A(gan->g_x[i]);
        in = h;
    }
    // out[n, I] = tanh(x @ W^T + b)
    linear_forward(rt, out, x, GP(12), GP(13), n, in, d->image, GANCL_ACT_TANH, 0.0f);
}

void gan_generator_backward(gancl_gan *gan, gancl_ptr dout, gancl_ptr out) {
    if (gan->dims.model == GANCL_MODEL_DCGAN) {
        dcgan_generator_backward(gan, dout, out);
        return;
    }
    const gancl_runtime *rt = gan->rt;
    const gancl_gan_dims *d = &gan->dims;
    const int B = gan->batch;
    // output layer: dx_3[B, H2] from dout[B, I]
    linear_backward(rt, A(gan->g_d[2]), GG(12), GG(13), dout, out, A(gan->g_x[2]), GP(12), B,
                    d->g_hidden[2], d->image, GANCL_ACT_TANH, 0.0f);
    for (int i = 2; i >= 0; i--) {
        int h = d->g_hidden[i], in = i ? d->g_hidden[i - 1] : d->latent;
        // the gradient before the LeakyReLU[B, h] from dx_{i+1}, in place; dgamma, dbeta, db
        batchnorm_backward(rt, A(gan->g_d[i]), GG(4 * i + 2), GG(4 * i + 1), A(gan->g_d[i]),
                           A(gan->g_a[i]), GP(4 * i + 2), A(gan->g_saved[i]), B, h,
                           GANCL_ACT_LEAKY, d->slope, 1);
        // dx_i[B, in] (none for z), dW
        gancl_ptr dinp = i ? A(gan->g_d[i - 1]) : NONE;
        gancl_ptr inp = i ? A(gan->g_x[i - 1]) : A(gan->z);
        linear_backward(rt, dinp, GG(4 * i), NONE, A(gan->g_d[i]), A(gan->g_a[i]), inp, GP(4 * i), B,
                        in, h, GANCL_ACT_NONE, 0.0f);
    }
}

void gan_discriminator_forward(gancl_gan *gan, int row0, int n) {
    if (gan->dims.model == GANCL_MODEL_DCGAN) {
        dcgan_discriminator_forward(gan, row0, n);
        return;
    }
    const gancl_runtime *rt = gan->rt;
    const gancl_gan_dims *d = &gan->dims;
    const int I = d->image, H0 = d->d_hidden[0], H1 = d->d_hidden[1];
    // h0[n, H0] = leaky(x @ W0^T + b0); h1[n, H1] = leaky(h0 @ W1^T + b1); logit[n] = h1 @ W2^T + b2
    linear_forward(rt, A(gan->d_h[0] + (size_t)row0 * H0), A(gan->d_x + (size_t)row0 * I), DP(0),
                   DP(1), n, I, H0, GANCL_ACT_LEAKY, d->slope);
    linear_forward(rt, A(gan->d_h[1] + (size_t)row0 * H1), A(gan->d_h[0] + (size_t)row0 * H0),
                   DP(2), DP(3), n, H0, H1, GANCL_ACT_LEAKY, d->slope);
    linear_forward(rt, A(gan->d_logit + row0), A(gan->d_h[1] + (size_t)row0 * H1), DP(4), DP(5),
                   n, H1, 1, GANCL_ACT_NONE, 0.0f);
}

void gan_discriminator_backward(gancl_gan *gan, int row0, int n, int dweights, int dinput) {
    if (gan->dims.model == GANCL_MODEL_DCGAN) {
        dcgan_discriminator_backward(gan, row0, n, dweights, dinput);
        return;
    }
    const gancl_runtime *rt = gan->rt;
    const gancl_gan_dims *d = &gan->dims;
    const int I = d->image, H0 = d->d_hidden[0], H1 = d->d_hidden[1];
    const size_t r0 = (size_t)row0;
#define W(x) (dweights ? (x) : NONE)
    linear_backward(rt, A(gan->d_dh[1] + r0 * H1), W(DG(4)), W(DG(5)), A(gan->d_dlogit + r0),
                    A(gan->d_logit + r0), A(gan->d_h[1] + r0 * H1), DP(4), n, H1, 1,
                    GANCL_ACT_NONE, 0.0f);
    linear_backward(rt, A(gan->d_dh[0] + r0 * H0), W(DG(2)), W(DG(3)), A(gan->d_dh[1] + r0 * H1),
                    A(gan->d_h[1] + r0 * H1), A(gan->d_h[0] + r0 * H0), DP(2), n, H0, H1,
                    GANCL_ACT_LEAKY, d->slope);
    linear_backward(rt, dinput ? A(gan->d_dx) : NONE, W(DG(0)), W(DG(1)), A(gan->d_dh[0] + r0 * H0),
                    A(gan->d_h[0] + r0 * H0), A(gan->d_x + r0 * I), DP(0), n, I, H0,
                    GANCL_ACT_LEAKY, d->slope);
#undef W
}

void gan_discriminator_gp_backward(gancl_gan *gan, int row0) {
    if (gan->dims.model == GANCL_MODEL_DCGAN) {
        dcgan_discriminator_gp_backward(gan, row0);
        return;
    }
    const gancl_runtime *rt = gan->rt;
    const gancl_gan_dims *d = &gan->dims;
    const int B = gan->batch, I = d->image, H0 = d->d_hidden[0], H1 = d->d_hidden[1];
    const size_t r0 = (size_t)row0;
    gancl_ptr u = A(gan->d_dx), t1 = A(gan->d_tan[0]), t2 = A(gan->d_tan[1]);
    gancl_ptr h0 = A(gan->d_h[0] + r0 * H0), h1 = A(gan->d_h[1] + r0 * H1);
    // tangent forward: t1[B, H0] = (u @ W0^T) * m0, t2[B, H1] = (t1 @ W1^T) * m1, m = leaky'(h)
    linear_forward(rt, t1, u, DP(0), NONE, B, I, H0, GANCL_ACT_NONE, 0.0f);
    bias_act_backward(rt, t1, h0, NONE, B, H0, GANCL_ACT_LEAKY, d->slope);
    linear_forward(rt, t2, t1, DP(2), NONE, B, H0, H1, GANCL_ACT_NONE, 0.0f);
    bias_act_backward(rt, t2, h1, NONE, B, H1, GANCL_ACT_LEAKY, d->slope);
    // s = sum_b t2 @ W2^T: ds/dt3 = 1, then back through the chain (t2, t1 overwritten by the
    // gradients after their use as inputs); no biases take part
    gancl_ptr ones = A(gan->d_dlogit + r0);
    gan_loss_forward_backward(rt, ones, A(gan->d_logit + r0), B, GANCL_LOSS_KIND_LINEAR, 1.0f, 1.0f,
                              gan->acc, -1, 0.0f, -1);
    linear_backward(rt, t2, DG(4), NONE, ones, A(gan->d_logit + r0), t2, DP(4), B, H1, 1,
                    GANCL_ACT_NONE, 0.0f);
    linear_backward(rt, t1, DG(2), NONE, t2, h1, t1, DP(2), B, H0, H1, GANCL_ACT_LEAKY, d->slope);
    linear_backward(rt, NONE, DG(0), NONE, t1, h0, u, DP(0), B, I, H0, GANCL_ACT_LEAKY, d->slope);
}

/* One optimiser step on a network's buffer; t counts its steps. */
static void optimize(const gancl_runtime *rt, cl_mem buf, size_t n, float lr,
                     const gancl_step_config *cfg, long *t) {
    ++*t;
    if (cfg->optimizer == GANCL_OPT_RMSPROP) rmsprop_update(rt, buf, n, lr, cfg->alpha, cfg->eps);
    else adam_update(rt, buf, n, lr, cfg->beta1, cfg->beta2, cfg->eps, *t);
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
    const int B = gan->batch, I = gan->dims.image;
    gancl_ptr fake = A(gan->d_x + (size_t)B * I); // D's rows [B, 2B)

    // ---- G step ----
    gan_generator_forward(gan, fake, B, 1);
    // D on the real rows too: D does not change before the D step, which reuses both halves,
    // and one GEMM over 2B rows runs faster than two over B
    gan_discriminator_forward(gan, 0, 2 * B);
    generator_loss(gan, cfg, GANCL_ACC_D_FAKE);
    gan_discriminator_backward(gan, B, B, 0, 1); // only dL/dfake, into d_dx
    zero_grads(rt, gan->g_buf, gan->g.size);
    gan_generator_backward(gan, A(gan->d_dx), fake);
    optimize(rt, gan->g_buf, gan->g.size, cfg->lr_g, cfg, &gan->g_step);

    // ---- D step, on the forward pass above ----
    discriminator_loss(gan, cfg, -1);
    zero_grads(rt, gan->d_buf, gan->d.size);
    gan_discriminator_backward(gan, 0, 2 * B, 1, 0);
    optimize(rt, gan->d_buf, gan->d.size, cfg->lr_d, cfg, &gan->d_step);
}

#define STREAM_GP 0x40000u

void gancl_gan_critic_step(gancl_gan *gan, const gancl_step_config *cfg, uint64_t seed, long step) {
    const gancl_runtime *rt = gan->rt;
    const int B = gan->batch, I = gan->dims.image, gp = cfg->loss == GANCL_LOSS_WGAN_GP;
    gancl_ptr real = A(gan->d_x), fake = A(gan->d_x + (size_t)B * I), xhat = A(gan->d_x + (size_t)2 * B * I);
    if (gp && gan->d_rows < 3 * B) gancl_die("the model was set up without room for the gradient penalty");
    gan_generator_forward(gan, fake, B, 1);
    if (gp)
        gp_interpolate(rt, xhat, real, fake, B, I, (uint32_t)seed, (uint32_t)(seed >> 32), (uint32_t)step,
                       STREAM_GP | (uint32_t)(step >> 32));
    gan_discriminator_forward(gan, 0, (gp ? 3 : 2) * B);
    discriminator_loss(gan, cfg, GANCL_ACC_D_FAKE);
    zero_grads(rt, gan->d_buf, gan->d.size);
    if (gp) {
        // g = grad_x D(xhat) into d_dx, then u = dGP/dg in place, then dGP/dtheta
        gancl_ptr ones = A(gan->d_dlogit + 2 * B), sq = A(gan->gp_sq);
        gan_loss_forward_backward(rt, ones, A(gan->d_logit + 2 * B), B, GANCL_LOSS_KIND_LINEAR, 1.0f,
                                  1.0f, gan->acc, -1, 0.0f, -1);
        gan_discriminator_backward(gan, 2 * B, B, 0, 1);
        gp_direction(rt, A(gan->d_dx), sq, B, I, cfg->gp_weight);
        gp_sum(rt, gan->acc, GANCL_ACC_GP, sq, B, cfg->gp_weight);
        gp_sum(rt, gan->acc, GANCL_ACC_D_LOSS, sq, B, cfg->gp_weight);
        gan_discriminator_gp_backward(gan, 2 * B);
    }
    gan_discriminator_backward(gan, 0, 2 * B, 1, 0);
    optimize(rt, gan->d_buf, gan->d.size, cfg->lr_d, cfg, &gan->d_step);
    if (cfg->loss == GANCL_LOSS_WGAN) clip_params(rt, gan->d_buf, gan->d.size, cfg->clip);
}

void gancl_gan_generator_step(gancl_gan *gan, const gancl_step_config *cfg) {
    const gancl_runtime *rt = gan->rt;
    const int B = gan->batch, I = gan->dims.image;
    gancl_ptr fake = A(gan->d_x + (size_t)B * I);
    gan_generator_forward(gan, fake, B, 1);
    gan_discriminator_forward(gan, B, B);
    generator_loss(gan, cfg, -1);
    gan_discriminator_backward(gan, B, B, 0, 1);
    zero_grads(rt, gan->g_buf, gan->g.size);
    gan_generator_backward(gan, A(gan->d_dx), fake);
    optimize(rt, gan->g_buf, gan->g.size, cfg->lr_g, cfg, &gan->g_step);
}
