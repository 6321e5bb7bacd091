/* test_gan.c: the whole MLP GAN on a tiny network. (1) Gradients of the G loss and the D loss
 * with respect to every parameter against central finite differences of a double-precision
 * C model built from the layer references. (2) Three iterations against PyTorch (fixture from
 * tools/make_reference.py): losses, all gradients of the first iteration, and the parameters
 * and BatchNorm running statistics after the third. */
#include "gancl/gan.h"
#include "testutil.h"
#include "gancl/selftest.h"

#include <math.h>

static gancl_device_info device;
static gancl_runtime rt;

static const gancl_gan_dims TINY = {3, 7, {4, 5, 6}, {5, 4}, 0.2f, 1e-3f, 0.2f};
enum { B = 4 };

/* ---- the double-precision C model ---- */

static double *ALLOCD(size_t n) {
    double *p = calloc(n ? n : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

/* G in training mode on z[B, Z] -> out[B, I]. */
static void g_forward_ref(const gancl_gan *g, const double *gp, const double *z, double *out) {
    const gancl_gan_dims *d = &g->dims;
    double *x = ALLOCD((size_t)B * 1024), *a = ALLOCD((size_t)B * 1024), saved[2048], run[2048];
    memcpy(x, z, sizeof(double) * B * d->latent);
    int in = d->latent;
    for (int i = 0; i < 3; i++) {
        int h = d->g_hidden[i];
        linear_forward_ref(a, x, gp + g->g.t[4 * i].off, gp + g->g.t[4 * i + 1].off, B, in, h,
                           GANCL_ACT_LEAKY, d->slope);
        batchnorm_forward_ref(x, saved, run, a, NULL, gp + g->g.t[4 * i + 2].off, B, h, d->bn_eps,
                              d->bn_momentum, 1, GANCL_ACT_NONE, 0, 1);
        in = h;
    }
    linear_forward_ref(out, x, gp + g->g.t[12].off, gp + g->g.t[13].off, B, in, d->image,
                       GANCL_ACT_TANH, 0);
    free(x);
    free(a);
}

/* D on x[B, I]; with dx != NULL also grad_x of each sample's output into dx[B, I]. */
static void d_forward_ref(const gancl_gan *g, const double *dp, const double *x, double *logit, double *dx) {
    const gancl_gan_dims *d = &g->dims;
    const int I = d->image, H0 = d->d_hidden[0], H1 = d->d_hidden[1];
    double h0[B * 64], h1[B * 64], d1[B * 64], d0[B * 64], ones[B];
    linear_forward_ref(h0, x, dp + g->d.t[0].off, dp + g->d.t[1].off, B, I, H0, GANCL_ACT_LEAKY, d->slope);
    linear_forward_ref(h1, h0, dp + g->d.t[2].off, dp + g->d.t[3].off, B, H0, H1, GANCL_ACT_LEAKY, d->slope);
    linear_forward_ref(logit, h1, dp + g->d.t[4].off, dp + g->d.t[5].off, B, H1, 1, GANCL_ACT_NONE, 0);
    if (!dx) return;
    for (int b = 0; b < B; b++) ones[b] = 1;
    linear_backward_ref(d1, NULL, NULL, ones, logit, h1, dp + g->d.t[4].off, B, H1, 1, GANCL_ACT_NONE, 0);
    linear_backward_ref(d0, NULL, NULL, d1, h1, h0, dp + g->d.t[2].off, B, H0, H1, GANCL_ACT_LEAKY, d->slope);
    linear_backward_ref(dx, NULL, NULL, d0, h0, x, dp + g->d.t[0].off, B, I, H0, GANCL_ACT_LEAKY, d->slope);
}

/* The losses of gan.c's definitions, in double. */
static double g_loss_ref(const gancl_gan *g, gancl_loss loss, const double *gp, const double *dp, const double *z) {
    double fake[B * 64], logit[B];
    g_forward_ref(g, gp, z, fake);
    d_forward_ref(g, dp, fake, logit, NULL);
    if (loss == GANCL_LOSS_BCE) return gan_loss_ref(NULL, logit, B, GANCL_LOSS_KIND_BCE, 1.0, 1.0);
    return gan_loss_ref(NULL, logit, B, GANCL_LOSS_KIND_LINEAR, -1.0, 1.0);
}

/* D's loss on real x, fakes and (wgan-gp) interpolates xhat, with lambda. */
static double d_loss_ref(const gancl_gan *g, gancl_loss loss, const double *dp, const double *fake,
                         const double *x, const double *xhat, double lambda, double *gp_out) {
    double lf[B], lr[B];
    d_forward_ref(g, dp, fake, lf, NULL);
    d_forward_ref(g, dp, x, lr, NULL);
    if (loss == GANCL_LOSS_BCE)
        return 0.5 * gan_loss_ref(NULL, lr, B, GANCL_LOSS_KIND_BCE, 1, 1) + 0.5 * gan_loss_ref(NULL, lf, B, GANCL_LOSS_KIND_BCE, 0, 1);
    if (loss == GANCL_LOSS_HINGE)
        return gan_loss_ref(NULL, lr, B, GANCL_LOSS_KIND_HINGE, -1, 1) + gan_loss_ref(NULL, lf, B, GANCL_LOSS_KIND_HINGE, 1, 1);
    double w = gan_loss_ref(NULL, lr, B, GANCL_LOSS_KIND_LINEAR, -1, 1) + gan_loss_ref(NULL, lf, B, GANCL_LOSS_KIND_LINEAR, 1, 1);
    if (loss != GANCL_LOSS_WGAN_GP) return w;
    double lh[B], gx[B * 64];
    d_forward_ref(g, dp, xhat, lh, gx);
    double pen = gp_direction_ref(gx, B, g->dims.image, lambda);
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
static void finite_difference_case(gancl_loss loss) {
    gancl_gan g;
    const int gp = loss == GANCL_LOSS_WGAN_GP;
    gancl_gan_init(&g, &rt, TINY, B, B, gp);
    gancl_gan_init_params(&g, 42);
    const int Z = TINY.latent, I = TINY.image;
    uint64_t rng = 11;
    float zf[B * 3], xf[B * 7];
    double z[B * 3], x[B * 7];
    for (int i = 0; i < B * Z; i++) z[i] = zf[i] = gancl_uniform(&rng, -2, 2);
    for (int i = 0; i < B * I; i++) x[i] = xf[i] = gancl_uniform(&rng, -1, 1);
    write_floats(g.acts, g.z, (size_t)B * Z, zf);
    write_floats(g.acts, g.d_x, (size_t)B * I, xf);
    float *gpf = read_floats(g.g_buf, 0, g.g.size), *dpf = read_floats(g.d_buf, 0, g.d.size);
    gancl_step_config frozen = gancl_step_defaults(loss);
    frozen.lr_g = frozen.lr_d = 0;
    frozen.n_critic = 1;
    if (gp) gancl_gan_critic_step(&g, &frozen, 7, 3);
    else gancl_gan_step(&g, &frozen);
    float *gg = read_floats(g.g_buf, g.g.size, g.g.size), *dg = read_floats(g.d_buf, g.d.size, g.d.size);
    float *fakef = read_floats(g.acts, g.d_x + (size_t)B * I, (size_t)B * I);
    float *xhatf = gp ? read_floats(g.acts, g.d_x + (size_t)2 * B * I, (size_t)B * I) : NULL;
    float *acc = read_floats(g.acc, 0, GANCL_ACC_N);
    double *gpar = ALLOCD(g.g.size), *dp = ALLOCD(g.d.size), fake[B * 7], xhat[B * 7];
    for (size_t i = 0; i < g.g.size; i++) gpar[i] = gpf[i];
    for (size_t i = 0; i < g.d.size; i++) dp[i] = dpf[i];
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
    for (size_t i = 0; !gp && i < g.g.size; i++) {
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
    for (size_t i = 0; i < g.d.size; i++) {
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
    print_message("%s: %zu G and %zu D parameters; max |device - finite difference| = %.3g%s\n",
                  gancl_loss_name(loss), gp ? 0 : g.g.size, g.d.size, worst, gp ? " (penalty included)" : "");
    free(gpf); free(dpf); free(gg); free(dg); free(gpar); free(dp); free(fakef); free(xhatf); free(acc);
    gancl_gan_free(&g);
}

static void test_gradients_by_finite_differences(void **state) {
    (void)state;
    finite_difference_case(GANCL_LOSS_BCE);
    finite_difference_case(GANCL_LOSS_HINGE);
    finite_difference_case(GANCL_LOSS_WGAN_GP);
}

/* wgan: RMSprop moves every critic parameter, then the clip holds them in [-clip, clip]. */
static void test_wgan_clip(void **state) {
    (void)state;
    gancl_gan g;
    gancl_gan_init(&g, &rt, TINY, B, B, 0);
    gancl_gan_init_params(&g, 5);
    gancl_step_config c = gancl_step_defaults(GANCL_LOSS_WGAN);
    c.lr_d = 1e-3f;
    c.clip = 10.0f; /* inactive: the step alone */
    float *before = read_floats(g.d_buf, 0, g.d.size);
    gancl_gan_critic_step(&g, &c, 1, 0);
    float *after = read_floats(g.d_buf, 0, g.d.size), *v = read_floats(g.d_buf, 3 * g.d.size, g.d.size);
    int moved = 0;
    for (size_t i = 0; i < g.d.size; i++) {
        moved += after[i] != before[i];
        assert_true(v[i] >= 0); /* RMSprop's square average */
    }
    assert_true(moved > (int)g.d.size * 9 / 10);
    c.clip = 0.05f;
    gancl_gan_critic_step(&g, &c, 1, 1);
    free(after);
    after = read_floats(g.d_buf, 0, g.d.size);
    int at_bound = 0;
    for (size_t i = 0; i < g.d.size; i++) {
        assert_true(fabsf(after[i]) <= 0.05f);
        at_bound += fabsf(after[i]) == 0.05f;
    }
    assert_true(at_bound > 0); /* the initial weights reach past 0.05: some were clamped */
    free(before); free(after); free(v);
    gancl_gan_free(&g);
}

/* ---- (2) PyTorch reference ---- */

static void test_matches_pytorch(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/mlp_gan_reference.bin", getenv("GANCL_FIXTURES"));
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    int32_t hdr[11];
    assert_int_equal(fread(hdr, 4, 11, f), 11);
    assert_int_equal(hdr[0], 20261127);
    assert_int_equal(hdr[1], 1);
    assert_int_equal(hdr[2], B);
    assert_int_equal(hdr[3], TINY.latent);
    for (int i = 0; i < 3; i++) assert_int_equal(hdr[4 + i], TINY.g_hidden[i]);
    assert_int_equal(hdr[7], TINY.image);
    assert_int_equal(hdr[8], TINY.d_hidden[0]);
    assert_int_equal(hdr[9], TINY.d_hidden[1]);
    const int steps = hdr[10], Z = TINY.latent, I = TINY.image;
    gancl_gan g;
    gancl_gan_init(&g, &rt, TINY, B, B, 0);
    gancl_gan_init_params(&g, 1); /* zero moments, running 0/1; parameters overwritten below */
    size_t gn = g.g.size, dn = g.d.size, rn = g.g_running.size;
#define READ(name, n) float *name = malloc((n) * sizeof(float)); assert_int_equal(fread(name, 4, (n), f), (n))
    READ(g0, gn);
    READ(d0, dn);
    READ(zs, (size_t)steps * B * Z);
    READ(xs, (size_t)steps * B * I);
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
    write_floats(g.g_buf, 0, gn, g0);
    write_floats(g.d_buf, 0, dn, d0);
    gancl_step_config opt = gancl_step_defaults(GANCL_LOSS_BCE);
    opt.lr_g = opt.lr_d = 1e-2f;
    double worst_loss = 0, worst_grad = 0, worst_param = 0;
    for (int s = 0; s < steps; s++) {
        float zero[GANCL_ACC_N] = {0};
        write_floats(g.acc, 0, GANCL_ACC_N, zero);
        write_floats(g.acts, g.z, (size_t)B * Z, zs + (size_t)s * B * Z);
        write_floats(g.acts, g.d_x, (size_t)B * I, xs + (size_t)s * B * I);
        gancl_gan_step(&g, &opt);
        float *acc = read_floats(g.acc, 0, GANCL_ACC_N);
        for (int k = 0; k < 2; k++) {
            double got = acc[k == 0 ? GANCL_ACC_G_LOSS : GANCL_ACC_D_LOSS], want = losses[2 * s + k];
            worst_loss = fmax(worst_loss, fabs(got - want));
            if (!close_enough(got, want, 1e-6, 1e-5)) fail_msg("step %d loss %d: %.8g vs PyTorch %.8g", s + 1, k, got, want);
        }
        free(acc);
        if (s == 0) {
            float *gg = read_floats(g.g_buf, gn, gn), *dg = read_floats(g.d_buf, dn, dn);
            for (size_t i = 0; i < gn; i++) {
                worst_grad = fmax(worst_grad, fabs(gg[i] - gg1[i]));
                if (!close_enough(gg[i], gg1[i], 1e-6, 1e-4)) fail_msg("G grad %zu: %.8g vs PyTorch %.8g", i, gg[i], gg1[i]);
            }
            for (size_t i = 0; i < dn; i++) {
                worst_grad = fmax(worst_grad, fabs(dg[i] - dg1[i]));
                if (!close_enough(dg[i], dg1[i], 1e-6, 1e-4)) fail_msg("D grad %zu: %.8g vs PyTorch %.8g", i, dg[i], dg1[i]);
            }
            free(gg);
            free(dg);
        }
    }
    float *gp = read_floats(g.g_buf, 0, gn), *dp = read_floats(g.d_buf, 0, dn), *run = read_floats(g.running, 0, rn);
    for (size_t i = 0; i < gn; i++) {
        worst_param = fmax(worst_param, fabs(gp[i] - g3[i]));
        if (!close_enough(gp[i], g3[i], 1e-5, 1e-5)) fail_msg("G param %zu after %d steps: %.8g vs PyTorch %.8g", i, steps, gp[i], g3[i]);
    }
    for (size_t i = 0; i < dn; i++) {
        worst_param = fmax(worst_param, fabs(dp[i] - d3[i]));
        if (!close_enough(dp[i], d3[i], 1e-5, 1e-5)) fail_msg("D param %zu after %d steps: %.8g vs PyTorch %.8g", i, steps, dp[i], d3[i]);
    }
    for (size_t i = 0; i < rn; i++)
        if (!close_enough(run[i], run3[i], 1e-5, 1e-5)) fail_msg("running stat %zu: %.8g vs PyTorch %.8g", i, run[i], run3[i]);
    print_message("max abs difference to PyTorch: losses %.2g, gradients %.2g, parameters after %d steps %.2g\n",
                  worst_loss, worst_grad, steps, worst_param);
    free(gp); free(dp); free(run);
    free(g0); free(d0); free(zs); free(xs); free(losses); free(gg1); free(dg1); free(g3); free(d3); free(run3);
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
        cmocka_unit_test(test_matches_pytorch),
        cmocka_unit_test(test_wgan_clip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
