/* test_gan.c: the whole MLP GAN on a tiny network. (1) Gradients of the G loss and the D loss
 * with respect to every parameter against central finite differences of a double-precision
 * C model built from the layer references. (2) Iterations against PyTorch (fixtures from
 * tools/make_reference.py: the MLP GAN, the DCGAN, and the conditional MLP GAN with its class
 * embeddings, D's concatenated or projected, and the semi-supervised GAN with its noise):
 * losses, all gradients of the first iteration, and the parameters and BatchNorm running
 * statistics after the last. (3) The semi-supervised GAN's labelled subset and its
 * data-dependent initialisation. */
#include "gancl/gan.h"
#include "testutil.h"
#include "gancl/selftest.h"
#include "gancl/ssgan.h"

#include <math.h>

static gancl_device_info device;
static gancl_runtime rt;

static const gancl_arch TINY = {GANCL_MODEL_MLP, 3, 7, {4, 5, 6}, 3, {5, 4}, 2, 0.0f, 0, 0};
enum { B = 4 };

/* ---- the double-precision C model (written out by hand, independent of the tables) ---- */

/* The model's constants: LeakyReLU slope, BatchNorm eps and momentum. */
static double slope_of(const gancl_gan *g) {
    float s, e, m;
    gancl_model_constants(g->arch.model, &s, &e, &m);
    return s;
}

static void bn_of(const gancl_gan *g, double *eps, double *momentum) {
    float s, e, m;
    gancl_model_constants(g->arch.model, &s, &e, &m);
    *eps = e;
    *momentum = m;
}

static double *ALLOCD(size_t n) {
    double *p = calloc(n ? n : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

/* G in training mode on z[B, Z] -> out[B, I]. */
static void mlp_g_forward_ref(const gancl_gan *g, const double *gp, const double *z, double *out) {
    const gancl_arch *d = &g->arch;
    const double slope = slope_of(g);
    double bn_eps, bn_momentum;
    bn_of(g, &bn_eps, &bn_momentum);
    double *x = ALLOCD((size_t)B * 1024), *a = ALLOCD((size_t)B * 1024), saved[2048], run[2048];
    memcpy(x, z, sizeof(double) * B * d->latent);
    int in = d->latent;
    for (int i = 0; i < 3; i++) {
        int h = d->g[i];
        linear_forward_ref(a, x, gp + g->g.params.t[4 * i].off, gp + g->g.params.t[4 * i + 1].off, B, in, h,
                           GANCL_ACT_LEAKY, slope);
        batchnorm_forward_ref(x, saved, run, a, NULL, gp + g->g.params.t[4 * i + 2].off, B, h, bn_eps,
                              bn_momentum, 1, GANCL_ACT_NONE, 0, 1);
        in = h;
    }
    linear_forward_ref(out, x, gp + g->g.params.t[12].off, gp + g->g.params.t[13].off, B, in, d->image,
                       GANCL_ACT_TANH, 0);
    free(x);
    free(a);
}

static void leaky_ref(double *x, size_t n, double slope) {
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : slope * x[i];
}

/* The DCGAN's G (dcgan.c) in double. */
static void dcgan_g_forward_ref(const gancl_gan *g, const double *gp, const double *z, double *out) {
    const gancl_arch *d = &g->arch;
    const double slope = slope_of(g);
    double bn_eps, bn_momentum;
    bn_of(g, &bn_eps, &bn_momentum);
    const int *c = d->g;
    double *x = ALLOCD((size_t)B * 4096), *a = ALLOCD((size_t)B * 4096), *saved = ALLOCD(8192), *run = ALLOCD(8192);
    const gancl_tensor_info *t = g->g.params.t;
    linear_forward_ref(x, z, gp + t[0].off, NULL, B, d->latent, c[0] * 49, GANCL_ACT_NONE, 0);
    const int N[3] = {c[0] * 49, c[1], c[2]}, S[3] = {1, 49, 196}, bn[3] = {1, 4, 7}, ct[3] = {3, 6, 9};
    gancl_conv_geom geo[3] = {gancl_convt_geom_make(c[1], 7, 7, 5, 1, 2, 0),
                              gancl_convt_geom_make(c[2], 7, 7, 5, 2, 2, 1),
                              gancl_convt_geom_make(1, 14, 14, 5, 2, 2, 1)};
    for (int i = 0; i < 3; i++) {
        if (i > 0) convt2d_forward_ref(x, a, gp + t[ct[i - 1]].off, geo[i - 1], c[i - 1], B);
        batchnorm_forward_ref(a, saved, run, x, NULL, gp + t[bn[i]].off, B, N[i], bn_eps, bn_momentum, 1,
                              GANCL_ACT_NONE, 0, S[i]);
        leaky_ref(a, (size_t)B * N[i] * S[i], slope);
    }
    convt2d_forward_ref(out, a, gp + t[ct[2]].off, geo[2], c[2], B);
    for (int i = 0; i < B * d->image; i++) out[i] = tanh(out[i]);
    free(x); free(a); free(saved); free(run);
}

static void g_forward_ref(const gancl_gan *g, const double *gp, const double *z, double *out) {
    if (g->arch.model == GANCL_MODEL_DCGAN) dcgan_g_forward_ref(g, gp, z, out);
    else mlp_g_forward_ref(g, gp, z, out);
}

/* D on x[B, I]; with dx != NULL also grad_x of each sample's output into dx[B, I]. */
static void mlp_d_forward_ref(const gancl_gan *g, const double *dp, const double *x, double *logit, double *dx) {
    const gancl_arch *d = &g->arch;
    const double slope = slope_of(g);
    double bn_eps, bn_momentum;
    bn_of(g, &bn_eps, &bn_momentum);
    const int I = d->image, H0 = d->d[0], H1 = d->d[1];
    double h0[B * 64], h1[B * 64], d1[B * 64], d0[B * 64], ones[B];
    linear_forward_ref(h0, x, dp + g->d.params.t[0].off, dp + g->d.params.t[1].off, B, I, H0, GANCL_ACT_LEAKY, slope);
    linear_forward_ref(h1, h0, dp + g->d.params.t[2].off, dp + g->d.params.t[3].off, B, H0, H1, GANCL_ACT_LEAKY, slope);
    linear_forward_ref(logit, h1, dp + g->d.params.t[4].off, dp + g->d.params.t[5].off, B, H1, 1, GANCL_ACT_NONE, 0);
    if (!dx) return;
    for (int b = 0; b < B; b++) ones[b] = 1;
    linear_backward_ref(d1, NULL, NULL, ones, logit, h1, dp + g->d.params.t[4].off, B, H1, 1, GANCL_ACT_NONE, 0);
    linear_backward_ref(d0, NULL, NULL, d1, h1, h0, dp + g->d.params.t[2].off, B, H0, H1, GANCL_ACT_LEAKY, slope);
    linear_backward_ref(dx, NULL, NULL, d0, h0, x, dp + g->d.params.t[0].off, B, I, H0, GANCL_ACT_LEAKY, slope);
}

/* The dropout of the DCGAN's D layer `layer` on rows [row0, row0 + B) (dcgan.c's stream with
 * seed 7, step 3, stream 0), applied to t in place; mask-only when scale == 0 (for gradients,
 * multiply by keep / (1 - p) as well). */
static void dropout_ref(const gancl_gan *g, double *t, int layer, int row0, size_t F) {
    const float p = g->arch.dropout;
    for (size_t i = 0; i < (size_t)B * F; i++)
        t[i] = dropout_keep_ref((size_t)row0 * F + i, p, 7, 0, 3, 0x60000u | (uint32_t)layer << 8) ? t[i] / (1.0 - (double)p) : 0;
}

static void dcgan_d_forward_ref(const gancl_gan *g, const double *dp, const double *x, double *logit,
                                double *dx, int row0) {
    const gancl_arch *d = &g->arch;
    const double slope = slope_of(g);
    double bn_eps, bn_momentum;
    bn_of(g, &bn_eps, &bn_momentum);
    const int *e = d->d;
    const gancl_tensor_info *t = g->d.params.t;
    const size_t F0 = (size_t)e[0] * 196, F1 = (size_t)e[1] * 49;
    gancl_conv_geom g0 = gancl_conv_geom_make(1, 28, 28, 5, 2, 2), g1 = gancl_conv_geom_make(e[0], 14, 14, 5, 2, 2);
    double *h0 = ALLOCD(B * F0), *h1 = ALLOCD(B * F1);
    conv2d_forward_ref(h0, x, dp + t[0].off, dp + t[1].off, g0, e[0], B);
    leaky_ref(h0, B * F0, slope);
    dropout_ref(g, h0, 0, row0, F0);
    conv2d_forward_ref(h1, h0, dp + t[2].off, dp + t[3].off, g1, e[1], B);
    leaky_ref(h1, B * F1, slope);
    dropout_ref(g, h1, 1, row0, F1);
    linear_forward_ref(logit, h1, dp + t[4].off, dp + t[5].off, B, (int)F1, 1, GANCL_ACT_NONE, 0);
    if (dx) {
        double ones[B], *d1 = ALLOCD(B * F1), *d0 = ALLOCD(B * F0);
        for (int b = 0; b < B; b++) ones[b] = 1;
        linear_backward_ref(d1, NULL, NULL, ones, logit, h1, dp + t[4].off, B, (int)F1, 1, GANCL_ACT_NONE, 0);
        dropout_ref(g, d1, 1, row0, F1);
        for (size_t i = 0; i < B * F1; i++) d1[i] *= h1[i] > 0 ? 1 : slope;
        conv2d_backward_ref(d0, NULL, NULL, d1, h0, dp + t[2].off, g1, e[1], B);
        dropout_ref(g, d0, 0, row0, F0);
        for (size_t i = 0; i < B * F0; i++) d0[i] *= h0[i] > 0 ? 1 : slope;
        conv2d_backward_ref(dx, NULL, NULL, d0, x, dp + t[0].off, g0, e[0], B);
        free(d1);
        free(d0);
    }
    free(h0);
    free(h1);
}

static void d_forward_ref(const gancl_gan *g, const double *dp, const double *x, double *logit, double *dx, int row0) {
    if (g->arch.model == GANCL_MODEL_DCGAN) dcgan_d_forward_ref(g, dp, x, logit, dx, row0);
    else mlp_d_forward_ref(g, dp, x, logit, dx);
}

/* The losses of gan.c's definitions, in double (fakes in D's rows [B, 2B)). */
static double g_loss_ref(const gancl_gan *g, gancl_loss loss, const double *gp, const double *dp, const double *z) {
    double *fake = ALLOCD((size_t)B * g->arch.image), logit[B];
    g_forward_ref(g, gp, z, fake);
    d_forward_ref(g, dp, fake, logit, NULL, B);
    free(fake);
    if (loss == GANCL_LOSS_BCE) return gan_loss_ref(NULL, logit, B, GANCL_LOSS_KIND_BCE, 1.0, 1.0);
    return gan_loss_ref(NULL, logit, B, GANCL_LOSS_KIND_LINEAR, -1.0, 1.0);
}

/* D's loss on real x (rows [0, B)), fakes (rows [B, 2B)) and (wgan-gp) interpolates xhat
 * (rows [2B, 3B)), with lambda. */
static double d_loss_ref(const gancl_gan *g, gancl_loss loss, const double *dp, const double *fake,
                         const double *x, const double *xhat, double lambda, double *gp_out) {
    double lf[B], lr[B];
    d_forward_ref(g, dp, fake, lf, NULL, B);
    d_forward_ref(g, dp, x, lr, NULL, 0);
    if (loss == GANCL_LOSS_BCE)
        return 0.5 * gan_loss_ref(NULL, lr, B, GANCL_LOSS_KIND_BCE, 1, 1) + 0.5 * gan_loss_ref(NULL, lf, B, GANCL_LOSS_KIND_BCE, 0, 1);
    if (loss == GANCL_LOSS_HINGE)
        return gan_loss_ref(NULL, lr, B, GANCL_LOSS_KIND_HINGE, -1, 1) + gan_loss_ref(NULL, lf, B, GANCL_LOSS_KIND_HINGE, 1, 1);
    double w = gan_loss_ref(NULL, lr, B, GANCL_LOSS_KIND_LINEAR, -1, 1) + gan_loss_ref(NULL, lf, B, GANCL_LOSS_KIND_LINEAR, 1, 1);
    if (loss != GANCL_LOSS_WGAN_GP) return w;
    double lh[B], *gx = ALLOCD((size_t)B * g->arch.image);
    d_forward_ref(g, dp, xhat, lh, gx, 2 * B);
    double pen = gp_direction_ref(gx, B, g->arch.image, lambda);
    free(gx);
    if (gp_out) *gp_out = pen;
    return w + pen;
}

/* ---- device helpers ---- */

static float *read_floats(cl_mem m, size_t off, size_t n) {
    float *f = malloc(n * sizeof *f);
    assert_non_null(f);
    gancl_read(&rt, m, off * sizeof(float), n * sizeof(float), f);
    return f;
}

static void write_floats(cl_mem m, size_t off, size_t n, const float *f) {
    gancl_write(&rt, m, off * sizeof(float), n * sizeof(float), f);
}

static int close_enough(double got, double want, double atol, double rtol) {
    return fabs(got - want) <= atol + rtol * fabs(want);
}

/* ---- (1) finite differences ---- */

/* One iteration with learning rate 0 (gradients only) on a tiny network; every gradient
 * against central finite differences of the double model. bce and hinge: the G and D steps of
 * gancl_gan_step; wgan-gp: a critic step, its penalty included. */
static void finite_difference_case(gancl_arch dims, gancl_loss loss) {
    gancl_gan g;
    const int gp = loss == GANCL_LOSS_WGAN_GP;
    char err[GANCL_ERR_LEN];
    if (gancl_gan_init(&g, &rt, &dims, B, B, gp, err)) fail_msg("%s", err);
    gancl_gan_init_params(&g, 42);
    gancl_gan_set_noise(&g, 7, 3, 0); /* the dropout stream the double model uses */
    const int Z = dims.latent, I = dims.image;
    uint64_t rng = 11;
    float *zf = malloc((size_t)B * Z * sizeof *zf), *xf = malloc((size_t)B * I * sizeof *xf);
    double *z = ALLOCD((size_t)B * Z), *x = ALLOCD((size_t)B * I);
    for (int i = 0; i < B * Z; i++) z[i] = zf[i] = gancl_uniform(&rng, -2, 2);
    for (int i = 0; i < B * I; i++) x[i] = xf[i] = gancl_uniform(&rng, -1, 1);
    write_floats(g.io, g.z, (size_t)B * Z, zf);
    write_floats(g.io, g.d_x, (size_t)B * I, xf);
    float *gpf = read_floats(g.g.buf, 0, g.g.params.size), *dpf = read_floats(g.d.buf, 0, g.d.params.size);
    gancl_step_config frozen = gancl_step_defaults(loss);
    frozen.lr_g = frozen.lr_d = 0;
    frozen.n_critic = 1;
    if (gp) gancl_gan_critic_step(&g, &frozen, 7, 3);
    else gancl_gan_step(&g, &frozen);
    float *gg = read_floats(g.g.buf, g.g.params.size, g.g.params.size), *dg = read_floats(g.d.buf, g.d.params.size, g.d.params.size);
    float *fakef = read_floats(g.io, g.d_x + (size_t)B * I, (size_t)B * I);
    float *xhatf = gp ? read_floats(g.io, g.d_x + (size_t)2 * B * I, (size_t)B * I) : NULL;
    float *acc = read_floats(g.acc, 0, GANCL_ACC_N);
    double *gpar = ALLOCD(g.g.params.size), *dp = ALLOCD(g.d.params.size), *fake = ALLOCD((size_t)B * I), *xhat = ALLOCD((size_t)B * I);
    for (size_t i = 0; i < g.g.params.size; i++) gpar[i] = gpf[i];
    for (size_t i = 0; i < g.d.params.size; i++) dp[i] = dpf[i];
    for (int i = 0; i < B * I; i++) {
        fake[i] = fakef[i];
        xhat[i] = gp ? xhatf[i] : 0;
    }
    const double h = 1e-6, lambda = frozen.gp_weight;
    double worst = 0, pen = 0;
    double loss_d = d_loss_ref(&g, loss, dp, fake, x, xhat, lambda, &pen);
    if (!close_enough(acc[GANCL_ACC_D_LOSS], loss_d, 1e-5, 1e-4))
        fail_msg("D loss: device %.8g, reference %.8g", acc[GANCL_ACC_D_LOSS], loss_d);
    if (gp && !close_enough(acc[GANCL_ACC_GP], pen, 1e-5, 1e-4))
        fail_msg("gradient penalty: device %.8g, reference %.8g", acc[GANCL_ACC_GP], pen);
    for (size_t i = 0; !gp && i < g.g.params.size; i++) {
        double keep = gpar[i];
        gpar[i] = keep + h;
        double up = g_loss_ref(&g, loss, gpar, dp, z);
        gpar[i] = keep - h;
        double down = g_loss_ref(&g, loss, gpar, dp, z);
        gpar[i] = keep;
        double fd = (up - down) / (2 * h);
        worst = fmax(worst, fabs(gg[i] - fd));
        if (!close_enough(gg[i], fd, 2e-5, 1e-3)) fail_msg("%s: dG/dparam[%zu]: device %.8g, finite differences %.8g", gancl_loss_name(loss), i, gg[i], fd);
    }
    for (size_t i = 0; i < g.d.params.size; i++) {
        double keep = dp[i];
        dp[i] = keep + h;
        double up = d_loss_ref(&g, loss, dp, fake, x, xhat, lambda, NULL);
        dp[i] = keep - h;
        double down = d_loss_ref(&g, loss, dp, fake, x, xhat, lambda, NULL);
        dp[i] = keep;
        double fd = (up - down) / (2 * h);
        worst = fmax(worst, fabs(dg[i] - fd));
        if (!close_enough(dg[i], fd, 2e-5, 1e-3)) fail_msg("%s: dD/dparam[%zu]: device %.8g, finite differences %.8g", gancl_loss_name(loss), i, dg[i], fd);
    }
    print_message("%s, %s: %zu G and %zu D parameters; max |device - finite difference| = %.3g%s\n",
                  gancl_model_name(dims.model), gancl_loss_name(loss), gp ? 0 : g.g.params.size, g.d.params.size, worst,
                  gp ? " (penalty included)" : "");
    free(gpf); free(dpf); free(gg); free(dg); free(gpar); free(dp); free(fakef); free(xhatf); free(acc);
    free(zf); free(xf); free(z); free(x); free(fake); free(xhat);
    gancl_gan_free(&g);
}

static void test_gradients_by_finite_differences(void **state) {
    (void)state;
    finite_difference_case(TINY, GANCL_LOSS_BCE);
    finite_difference_case(TINY, GANCL_LOSS_HINGE);
    finite_difference_case(TINY, GANCL_LOSS_WGAN_GP);
}

/* The DCGAN with few channels: conv layers, BatchNorm2d, dropout and the conv critic's
 * gradient penalty, by finite differences. */
static void test_dcgan_gradients_by_finite_differences(void **state) {
    (void)state;
    gancl_arch tiny = gancl_arch_default(GANCL_MODEL_DCGAN, 3);
    tiny.g[0] = 4, tiny.g[1] = 3, tiny.g[2] = 2;
    tiny.d[0] = 2, tiny.d[1] = 3;
    finite_difference_case(tiny, GANCL_LOSS_BCE);
    finite_difference_case(tiny, GANCL_LOSS_WGAN_GP);
}

/* wgan: RMSprop moves every critic parameter, then the clip holds them in [-clip, clip]. */
static void test_wgan_clip(void **state) {
    (void)state;
    gancl_gan g;
    char err[GANCL_ERR_LEN];
    if (gancl_gan_init(&g, &rt, &TINY, B, B, 0, err)) fail_msg("%s", err);
    gancl_gan_init_params(&g, 5);
    gancl_step_config c = gancl_step_defaults(GANCL_LOSS_WGAN);
    c.lr_d = 1e-3f;
    c.clip = 10.0f; /* inactive: the step alone */
    float *before = read_floats(g.d.buf, 0, g.d.params.size);
    gancl_gan_critic_step(&g, &c, 1, 0);
    float *after = read_floats(g.d.buf, 0, g.d.params.size), *v = read_floats(g.d.buf, 3 * g.d.params.size, g.d.params.size);
    int moved = 0;
    for (size_t i = 0; i < g.d.params.size; i++) {
        moved += after[i] != before[i];
        assert_true(v[i] >= 0); /* RMSprop's square average */
    }
    assert_true(moved > (int)g.d.params.size * 9 / 10);
    c.clip = 0.05f;
    gancl_gan_critic_step(&g, &c, 1, 1);
    free(after);
    after = read_floats(g.d.buf, 0, g.d.params.size);
    int at_bound = 0;
    for (size_t i = 0; i < g.d.params.size; i++) {
        assert_true(fabsf(after[i]) <= 0.05f);
        at_bound += fabsf(after[i]) == 0.05f;
    }
    assert_true(at_bound > 0); /* the initial weights reach past 0.05: some were clamped */
    free(before); free(after); free(v);
    gancl_gan_free(&g);
}

/* --ema: after each G step, the average's parameters equal the moving average computed here
 * from G's own; the D step leaves it alone. Its BatchNorm statistics, refreshed, are the mean
 * over the refresh passes of the first BatchNorm's batch statistics, computed here from the
 * same noise; sampling uses the average. Also through wgan's separate G steps. */
static void ema_case(gancl_loss loss) {
    gancl_gan g;
    char err[GANCL_ERR_LEN];
    if (gancl_gan_init(&g, &rt, &TINY, B, B, 0, err)) fail_msg("%s", err);
    assert_int_equal(gancl_gan_enable_ema(&g, 1.0f, err), -1); /* outside (0, 1) */
    assert_int_equal(gancl_gan_enable_ema(&g, 0.0f, err), -1);
    if (gancl_gan_enable_ema(&g, 0.3f, err)) fail_msg("%s", err);
    gancl_gan_init_params(&g, 3);
    gancl_gan_reset_ema(&g);
    const size_t P = g.g.params.size, R = g.g.running.size;
    assert_true(R > 0);
    double *avg = calloc(P, sizeof *avg);
    float *p = read_floats(g.g.buf, 0, P);
    for (size_t i = 0; i < P; i++) avg[i] = p[i];
    free(p);
    gancl_step_config c = gancl_step_defaults(loss);
    uint64_t s = 11;
    float *z = malloc((size_t)B * TINY.latent * sizeof *z), *x = malloc((size_t)B * TINY.image * sizeof *x);
    for (int step = 0; step < 12; step++) {
        for (int i = 0; i < B * TINY.latent; i++) z[i] = gancl_uniform(&s, -1, 1);
        for (int i = 0; i < B * TINY.image; i++) x[i] = gancl_uniform(&s, -1, 1);
        gancl_write(&rt, g.io, g.z * sizeof(float), (size_t)B * TINY.latent * sizeof *z, z);
        gancl_write(&rt, g.io, g.d_x * sizeof(float), (size_t)B * TINY.image * sizeof *x, x);
        if (loss == GANCL_LOSS_BCE) gancl_gan_step(&g, &c);
        else if (step % 2) gancl_gan_generator_step(&g, &c);
        else gancl_gan_critic_step(&g, &c, 1, step);
        if (loss != GANCL_LOSS_BCE && step % 2 == 0) continue; /* a D step: no change */
        const double d = gancl_ema_decay_at(0.3f, g.g.step); /* warm-up (1 + t) / (10 + t), then 0.3 */
        assert_float_equal(d, g.g.step <= 2 ? (1.0 + g.g.step) / (10.0 + g.g.step) : 0.3, 1e-7);
        p = read_floats(g.g.buf, 0, P);
        for (size_t i = 0; i < P; i++) avg[i] = (float)d * avg[i] + (1 - (float)d) * p[i];
        free(p);
    }
    float *e = read_floats(g.g_ema.buf, 0, P);
    p = read_floats(g.g.buf, 0, P);
    int differs = 0;
    for (size_t i = 0; i < P; i++) {
        assert_float_equal(e[i], avg[i], 1e-5 * (1 + fabs(avg[i])));
        differs += e[i] != p[i];
    }
    assert_true(differs > (int)P / 2); /* the average is not G */
    /* the refresh: layer 0 is Linear(Z -> H0) + LeakyReLU 0.2, then the first BatchNorm */
    const uint64_t seed = 77;
    gancl_gan_refresh_ema_stats(&g, seed);
    float *run = read_floats(g.g_ema.running_buf, 0, R);
    const int Z = TINY.latent, H = TINY.g[0], N = g.g_rows;
    const float *w = e + g.g_ema.params.t[0].off, *bias = e + g.g_ema.params.t[1].off;
    double mean[8] = {0}, var[8] = {0};
    float *zz = malloc((size_t)N * Z * sizeof *zz);
    for (int k = 0; k < GANCL_EMA_STAT_PASSES; k++) {
        randn_ref(zz, (size_t)N * Z, (uint32_t)seed, 0, (uint32_t)g.g_ema.step, GANCL_STREAM_EMA_STATS | (uint32_t)k);
        for (int j = 0; j < H; j++) {
            double h[64], m = 0, v = 0;
            for (int r = 0; r < N; r++) {
                double y = bias[j];
                for (int q = 0; q < Z; q++) y += (double)w[j * Z + q] * zz[r * Z + q];
                h[r] = y > 0 ? y : 0.2 * y;
                m += h[r] / N;
            }
            for (int r = 0; r < N; r++) v += (h[r] - m) * (h[r] - m) / (N - 1);
            mean[j] += m / GANCL_EMA_STAT_PASSES;
            var[j] += v / GANCL_EMA_STAT_PASSES;
        }
    }
    assert_string_equal(g.g_ema.running.t[0].name, "generator_ema.2.running_mean");
    for (int j = 0; j < H; j++) {
        assert_float_equal(run[g.g_ema.running.t[0].off + j], mean[j], 1e-5);
        assert_float_equal(run[g.g_ema.running.t[1].off + j], var[j], 1e-5 * (1 + var[j]));
    }
    /* a second refresh without a G step changes nothing */
    CL_CHECK(clEnqueueFillBuffer(rt.queue, g.g_ema.running_buf, &(float){9.0f}, sizeof(float), 0, R * sizeof(float), 0,
                                 NULL, NULL));
    gancl_gan_refresh_ema_stats(&g, seed);
    float *run2 = read_floats(g.g_ema.running_buf, 0, R);
    for (size_t i = 0; i < R; i++) assert_true(run2[i] == 9.0f);
    free(run2);
    /* samples come from the average: its forward pass, not G's */
    g.ema_stats_fresh = 0;
    gancl_gan_refresh_ema_stats(&g, seed);
    gancl_ptr out = gancl_gan_io(&g, g.g_out);
    gancl_gan_sample(&g, out, B);
    float *a = read_floats(g.io, g.g_out, (size_t)B * TINY.image);
    gancl_net_forward(&g.g_ema, out, gancl_gan_io(&g, g.z), 0, B, 0);
    float *b = read_floats(g.io, g.g_out, (size_t)B * TINY.image);
    gancl_net_forward(&g.g, out, gancl_gan_io(&g, g.z), 0, B, 0);
    float *cg = read_floats(g.io, g.g_out, (size_t)B * TINY.image);
    assert_memory_equal(a, b, (size_t)B * TINY.image * sizeof *a);
    assert_true(memcmp(a, cg, (size_t)B * TINY.image * sizeof *a) != 0);
    free(a); free(b); free(cg); free(e); free(p); free(avg); free(z); free(x); free(run); free(zz);
    gancl_gan_free(&g);
}

static void test_ema(void **state) {
    (void)state;
    ema_case(GANCL_LOSS_BCE);
    ema_case(GANCL_LOSS_WGAN);
}

/* ---- (2) PyTorch reference ---- */

/* Every element of got [n] (device) against want [n] (PyTorch) within atol + rtol |want|;
 * *worst keeps the largest difference. */
static void expect_floats(const char *what, const float *got, const float *want, size_t n, double atol, double rtol,
                          double *worst) {
    for (size_t i = 0; i < n; i++) {
        *worst = fmax(*worst, fabs(got[i] - want[i]));
        if (!close_enough(got[i], want[i], atol, rtol)) fail_msg("%s %zu: %.8g vs PyTorch %.8g", what, i, got[i], want[i]);
    }
}

/* Replays a fixture's iterations (on its weights, noise and real batches) and compares. */
static void pytorch_case(const char *fixture, gancl_arch dims) {
    const gancl_arch TINY = dims; /* the fixture's sizes are checked against these */
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", getenv("GANCL_FIXTURES"), fixture);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    int32_t hdr[12];
    assert_int_equal(fread(hdr, 4, 11, f), 11);
    assert_int_equal(hdr[0], 20261127);
    /* version 2: conditional, with CLASSES; 3: conditional with the projection D */
    assert_int_equal(hdr[1], TINY.classes ? 2 + TINY.projection : 1);
    if (TINY.classes) {
        assert_int_equal(fread(hdr + 11, 4, 1, f), 1);
        assert_int_equal(hdr[11], TINY.classes);
    }
    assert_int_equal(hdr[2], B);
    assert_int_equal(hdr[3], TINY.latent);
    for (int i = 0; i < 3; i++) assert_int_equal(hdr[4 + i], TINY.g[i]);
    assert_int_equal(hdr[7], TINY.image);
    assert_int_equal(hdr[8], TINY.d[0]);
    assert_int_equal(hdr[9], TINY.d[1]);
    const int steps = hdr[10], Z = TINY.latent, I = TINY.image;
    gancl_gan g;
    char err[GANCL_ERR_LEN];
    if (gancl_gan_init(&g, &rt, &TINY, B, B, 0, err)) fail_msg("%s", err);
    gancl_gan_init_params(&g, 1); /* zero moments, running 0/1; parameters overwritten below */
    size_t gn = g.g.params.size, dn = g.d.params.size, rn = g.g.running.size;
#define READ(name, n) float *name = malloc((n) * sizeof(float)); assert_int_equal(fread(name, 4, (n), f), (n))
    READ(g0, gn);
    READ(d0, dn);
    READ(zs, (size_t)steps * B * Z);
    READ(xs, (size_t)steps * B * I);
    int32_t *ys = NULL;
    if (TINY.classes) {
        ys = malloc((size_t)steps * B * sizeof *ys);
        assert_int_equal(fread(ys, 4, (size_t)steps * B, f), (size_t)steps * B);
    }
    READ(losses, (size_t)steps * 2);
    READ(gg1, gn);
    READ(dg1, dn);
    READ(g3, gn);
    READ(d3, dn);
    READ(run3, rn);
#undef READ
    char extra;
    assert_int_equal(fread(&extra, 1, 1, f), 0); /* nothing after the last array */
    fclose(f);
    write_floats(g.g.buf, 0, gn, g0);
    write_floats(g.d.buf, 0, dn, d0);
    gancl_step_config opt = gancl_step_defaults(GANCL_LOSS_BCE);
    opt.lr_g = opt.lr_d = 1e-2f;
    double worst_loss = 0, worst_grad = 0, worst_param = 0;
    for (int s = 0; s < steps; s++) {
        float zero[GANCL_ACC_N] = {0};
        write_floats(g.acc, 0, GANCL_ACC_N, zero);
        write_floats(g.io, g.z, (size_t)B * Z, zs + (size_t)s * B * Z);
        write_floats(g.io, g.d_x, (size_t)B * I, xs + (size_t)s * B * I);
        if (ys) { /* the batch's classes, as training passes them: in data order, then repeated */
            cl_mem y = gancl_buffer(&rt, (size_t)B * sizeof(cl_int));
            gancl_write(&rt, y, 0, (size_t)B * sizeof(cl_int), ys + (size_t)s * B);
            gancl_gan_batch_labels(&g, y, 0);
            clReleaseMemObject(y);
        }
        gancl_gan_step(&g, &opt);
        float *acc = read_floats(g.acc, 0, GANCL_ACC_N);
        for (int k = 0; k < 2; k++) {
            double got = acc[k == 0 ? GANCL_ACC_G_LOSS : GANCL_ACC_D_LOSS], want = losses[2 * s + k];
            worst_loss = fmax(worst_loss, fabs(got - want));
            if (!close_enough(got, want, 1e-6, 1e-5)) fail_msg("step %d loss %d: %.8g vs PyTorch %.8g", s + 1, k, got, want);
        }
        free(acc);
        if (s == 0) {
            float *gg = read_floats(g.g.buf, gn, gn), *dg = read_floats(g.d.buf, dn, dn);
            expect_floats("G grad", gg, gg1, gn, 1e-6, 1e-4, &worst_grad);
            expect_floats("D grad", dg, dg1, dn, 1e-6, 1e-4, &worst_grad);
            free(gg);
            free(dg);
        }
    }
    float *gp = read_floats(g.g.buf, 0, gn), *dp = read_floats(g.d.buf, 0, dn), *run = read_floats(g.g.running_buf, 0, rn);
    double worst_run = 0;
    expect_floats("G param after the last step", gp, g3, gn, 1e-5, 1e-5, &worst_param);
    expect_floats("D param after the last step", dp, d3, dn, 1e-5, 1e-5, &worst_param);
    expect_floats("running stat", run, run3, rn, 1e-5, 1e-5, &worst_run);
    print_message("%s%s: max abs difference to PyTorch: losses %.2g, gradients %.2g, parameters after %d steps %.2g\n",
                  dims.projection ? "conditional (projection D) " : dims.classes ? "conditional " : "",
                  gancl_model_name(dims.model), worst_loss, worst_grad, steps,
                  worst_param);
    free(ys);
    free(gp); free(dp); free(run);
    free(g0); free(d0); free(zs); free(xs); free(losses); free(gg1); free(dg1); free(g3); free(d3); free(run3);
    gancl_gan_free(&g);
}

static void test_matches_pytorch(void **state) {
    (void)state;
    pytorch_case("mlp_gan_reference.bin", TINY);
    gancl_arch dc = gancl_arch_default(GANCL_MODEL_DCGAN, 3);
    dc.g[0] = 4, dc.g[1] = 3, dc.g[2] = 2;
    dc.d[0] = 2, dc.d[1] = 3;
    dc.dropout = 0; /* PyTorch's masks are its own: the fixture has none */
    pytorch_case("dcgan_reference.bin", dc);
    gancl_arch cond = TINY;
    cond.classes = 10;
    pytorch_case("cgan_reference.bin", cond);
    cond.projection = 1;
    pytorch_case("pgan_reference.bin", cond);
}

/* The semi-supervised GAN's iteration (ssgan.h) against tools/make_reference.py's replay of it,
 * Philox noise included: G's uniforms and D's GaussianNoise are recomputed there. */
static void test_ssgan_matches_pytorch(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/ssgan_reference.bin", getenv("GANCL_FIXTURES"));
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    int32_t h[11];
    assert_int_equal(fread(h, 4, 11, f), 11);
    assert_int_equal(h[0], 20261127);
    assert_int_equal(h[1], 4);
    gancl_arch a = gancl_arch_default(GANCL_MODEL_SSGAN, h[3]);
    a.image = h[6];
    a.ng = 2, a.g[0] = h[4], a.g[1] = h[5];
    a.nd = 3, a.d[0] = h[7], a.d[1] = h[8], a.d[2] = h[9];
    const int Bs = h[2], steps = h[10], I = a.image;
    gancl_gan g;
    char err[GANCL_ERR_LEN];
    if (gancl_gan_init(&g, &rt, &a, Bs, Bs, 0, err)) fail_msg("%s", err);
    gancl_gan_init_params(&g, 1);
    const size_t gn = g.g.params.size, dn = g.d.params.size, rn = g.g.running.size;
    const size_t n_img = (size_t)steps * 3 * Bs;
    uint8_t *img = malloc(n_img * I);
    int32_t *classes = malloc((size_t)steps * Bs * sizeof *classes);
    assert_int_equal(fread(img, 1, n_img * I, f), n_img * I);
    assert_int_equal(fread(classes, 4, (size_t)steps * Bs, f), (size_t)steps * Bs);
#define READ(name, n) float *name = malloc((n) * sizeof(float)); assert_int_equal(fread(name, 4, (n), f), (n))
    READ(g0, gn);
    READ(d0, dn);
    READ(losses, (size_t)steps * 3);
    READ(gg1, gn);
    READ(dg1, dn);
    READ(g2, gn);
    READ(d2, dn);
    READ(run2, rn);
#undef READ
    char extra;
    assert_int_equal(fread(&extra, 1, 1, f), 0);
    fclose(f);
    write_floats(g.g.buf, 0, gn, g0);
    write_floats(g.d.buf, 0, dn, d0);
    /* step s's batches: images [s][k][b] at index (3 s + k) B + b */
    int *lab = malloc((size_t)steps * Bs * sizeof *lab), *unl = malloc((size_t)steps * Bs * sizeof *unl),
        *unl2 = malloc((size_t)steps * Bs * sizeof *unl2);
    for (int s = 0; s < steps; s++)
        for (int b = 0; b < Bs; b++) {
            lab[s * Bs + b] = (3 * s) * Bs + b;
            unl[s * Bs + b] = (3 * s + 1) * Bs + b;
            unl2[s * Bs + b] = (3 * s + 2) * Bs + b;
        }
    const size_t ob = (size_t)steps * Bs * sizeof(int);
    cl_mem dimg = gancl_buffer(&rt, n_img * I), dlab = gancl_buffer(&rt, ob), dcls = gancl_buffer(&rt, ob),
           dunl = gancl_buffer(&rt, ob), dunl2 = gancl_buffer(&rt, ob);
    gancl_write(&rt, dimg, 0, n_img * I, img);
    gancl_write(&rt, dlab, 0, ob, lab);
    gancl_write(&rt, dcls, 0, ob, classes);
    gancl_write(&rt, dunl, 0, ob, unl);
    gancl_write(&rt, dunl2, 0, ob, unl2);
    gancl_step_config opt = gancl_step_defaults(GANCL_LOSS_BCE);
    double worst_loss = 0, worst_grad = 0, worst_param = 0;
    for (int s = 0; s < steps; s++) {
        float zero[GANCL_ACC_N] = {0};
        write_floats(g.acc, 0, GANCL_ACC_N, zero);
        gancl_ssgan_iteration(&g, &opt, 1e-2f, 1.0f, dimg, dlab, dcls, dunl, dunl2, (size_t)s * Bs, 7, s);
        float *acc = read_floats(g.acc, 0, GANCL_ACC_N);
        const int slot[3] = {GANCL_ACC_LAB_LOSS, GANCL_ACC_D_LOSS, GANCL_ACC_G_LOSS};
        for (int k = 0; k < 3; k++) {
            const double got = acc[slot[k]], want = losses[3 * s + k];
            worst_loss = fmax(worst_loss, fabs(got - want));
            if (!close_enough(got, want, 1e-6, 1e-5)) fail_msg("step %d loss %d: %.8g vs PyTorch %.8g", s + 1, k, got, want);
        }
        free(acc);
        if (s == 0) {
            /* G's gradients are still in its buffer; D's were overwritten by nothing since
             * its step (the G step asks for none) */
            float *gg = read_floats(g.g.buf, gn, gn), *dg = read_floats(g.d.buf, dn, dn);
            expect_floats("G grad", gg, gg1, gn, 1e-6, 1e-4, &worst_grad);
            expect_floats("D grad", dg, dg1, dn, 1e-6, 1e-4, &worst_grad);
            free(gg);
            free(dg);
        }
    }
    float *gp = read_floats(g.g.buf, 0, gn), *dp = read_floats(g.d.buf, 0, dn), *run = read_floats(g.g.running_buf, 0, rn);
    double worst_run = 0;
    expect_floats("G param after the last step", gp, g2, gn, 1e-5, 1e-5, &worst_param);
    expect_floats("D param after the last step", dp, d2, dn, 1e-5, 1e-5, &worst_param);
    expect_floats("running stat", run, run2, rn, 1e-5, 1e-5, &worst_run);
    print_message("ssgan: max abs difference to PyTorch: losses %.2g, gradients %.2g, parameters after %d steps %.2g\n",
                  worst_loss, worst_grad, steps, worst_param);
    cl_mem mems[] = {dimg, dlab, dcls, dunl, dunl2};
    for (int i = 0; i < 5; i++) clReleaseMemObject(mems[i]);
    free(gp); free(dp); free(run); free(lab); free(unl); free(unl2); free(img); free(classes);
    free(g0); free(d0); free(losses); free(gg1); free(dg1); free(g2); free(d2); free(run2);
    gancl_gan_free(&g);
}

/* The labelled subset: exactly N / 10 of each class, the same for the same seed, another for
 * another seed, and a refusal when a class has too few. */
static void test_ssgan_label_subset(void **state) {
    (void)state;
    enum { COUNT = 5000 };
    uint8_t labels[COUNT];
    uint64_t rng = 3;
    for (int i = 0; i < COUNT; i++) labels[i] = (uint8_t)(gancl_splitmix64(&rng) % 10);
    int a[COUNT], b[COUNT], c[COUNT];
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_ssgan_label_subset(labels, COUNT, 10, 1, a, err), 100);
    assert_int_equal(gancl_ssgan_label_subset(labels, COUNT, 10, 1, b, err), 100);
    assert_int_equal(gancl_ssgan_label_subset(labels, COUNT, 10, 2, c, err), 100);
    assert_memory_equal(a, b, sizeof(int) * 100);
    int per[10] = {0}, same = 0, seen[COUNT] = {0};
    for (int i = 0; i < 100; i++) {
        assert_true(a[i] >= 0 && a[i] < COUNT);
        assert_int_equal(seen[a[i]]++, 0); /* no image twice */
        assert_int_equal(labels[a[i]], i / 10); /* class by class */
        per[labels[a[i]]]++;
        for (int k = 0; k < 100; k++) same += a[i] == c[k];
    }
    for (int k = 0; k < 10; k++) assert_int_equal(per[k], 10);
    assert_true(same < 20); /* another seed, another subset (a random pair shares about 2) */
    assert_int_equal(gancl_ssgan_label_subset(labels, COUNT, 0, 1, a, err), COUNT); /* all, in order */
    for (int i = 0; i < COUNT; i++) assert_int_equal(a[i], i);
    assert_int_equal(gancl_ssgan_label_subset(labels, COUNT, 1000, 1, a, err), -1);
    assert_non_null(strstr(err, "fewer than the 1000 per class"));
}

/* After the data-dependent initialisation every weight-normalised Linear's pre-activation on
 * the initialisation batch (same noise) has mean 0 and standard deviation 1 per unit: measured
 * here with the reference engine on the weights read back from the device. */
static void test_ssgan_data_init(void **state) {
    (void)state;
    gancl_arch a = gancl_arch_default(GANCL_MODEL_SSGAN, 5);
    a.image = 20;
    a.ng = 1, a.g[0] = 9;
    a.nd = 2, a.d[0] = 12, a.d[1] = 8;
    gancl_gan g;
    char err[GANCL_ERR_LEN];
    if (gancl_gan_init(&g, &rt, &a, 16, 16, 0, err)) fail_msg("%s", err);
    gancl_gan_init_params(&g, 3);
    enum { N = 40 };
    uint8_t img[N * 20];
    uint64_t rng = 9;
    for (int i = 0; i < N * 20; i++) img[i] = (uint8_t)(gancl_splitmix64(&rng) % 256);
    gancl_ssgan_data_init(&g, img, N, 11);
    float *pf = read_floats(g.d.buf, 0, g.d.params.size);
    double *p = ALLOCD(g.d.params.size), *x = ALLOCD((size_t)N * 20), run[1];
    for (size_t i = 0; i < g.d.params.size; i++) p[i] = pf[i];
    for (int i = 0; i < N * 20; i++) x[i] = img[i] / 255.0;
    gancl_net_ref r;
    gancl_net_ref_forward(&r, &g.d, p, run, x, NULL, N, 1, 11, 0, 7);
    int checked = 0;
    for (int i = 0; i < g.d.n_layers; i++) {
        const gancl_layer *L = &g.d.layer[i];
        if (L->kind != GANCL_LINEAR) continue;
        for (int o = 0; o < L->n; o++) {
            double m = 0, v = 0;
            for (int row = 0; row < N; row++) m += r.x[i + 1][row * L->n + o] / N;
            for (int row = 0; row < N; row++) v += pow(r.x[i + 1][row * L->n + o] - m, 2) / N;
            if (fabs(m) > 1e-4 || fabs(sqrt(v) - 1) > 1e-4)
                fail_msg("D layer %d unit %d: mean %.3g, std %.6g after the initialisation", i, o, m, sqrt(v));
            checked++;
        }
    }
    assert_int_equal(checked, 12 + 8 + 10);
    gancl_net_ref_free(&r);
    free(pf);
    free(p);
    free(x);
    gancl_gan_free(&g);
}

static int setup(void **state) {
    (void)state;
    return open_test_runtime(&rt, &device, GANCL_GEMM_CLBLAST);
}

static int teardown(void **state) {
    (void)state;
    gancl_runtime_free(&rt);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_by_finite_differences),
        cmocka_unit_test(test_dcgan_gradients_by_finite_differences),
        cmocka_unit_test(test_matches_pytorch),
        cmocka_unit_test(test_ssgan_matches_pytorch),
        cmocka_unit_test(test_ssgan_label_subset),
        cmocka_unit_test(test_ssgan_data_init),
        cmocka_unit_test(test_wgan_clip),
        cmocka_unit_test(test_ema),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
