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
        batchnorm_forward_ref(x, saved, run, a, gp + g->g.t[4 * i + 2].off, B, h, d->bn_eps,
                              d->bn_momentum, 1);
        in = h;
    }
    linear_forward_ref(out, x, gp + g->g.t[12].off, gp + g->g.t[13].off, B, in, d->image,
                       GANCL_ACT_TANH, 0);
    free(x);
    free(a);
}

static void d_forward_ref(const gancl_gan *g, const double *dp, const double *x, double *logit) {
    const gancl_gan_dims *d = &g->dims;
    double h0[B * 64], h1[B * 64];
    linear_forward_ref(h0, x, dp + g->d.t[0].off, dp + g->d.t[1].off, B, d->image, d->d_hidden[0], GANCL_ACT_LEAKY, d->slope);
    linear_forward_ref(h1, h0, dp + g->d.t[2].off, dp + g->d.t[3].off, B, d->d_hidden[0], d->d_hidden[1], GANCL_ACT_LEAKY, d->slope);
    linear_forward_ref(logit, h1, dp + g->d.t[4].off, dp + g->d.t[5].off, B, d->d_hidden[1], 1, GANCL_ACT_NONE, 0);
}

static double g_loss_ref(const gancl_gan *g, const double *gp, const double *dp, const double *z) {
    double fake[B * 64], logit[B];
    g_forward_ref(g, gp, z, fake);
    d_forward_ref(g, dp, fake, logit);
    return bce_ref(NULL, logit, B, 1.0, 1.0);
}

static double d_loss_ref(const gancl_gan *g, const double *gp, const double *dp, const double *z,
                         const double *x) {
    double fake[B * 64], lf[B], lr[B];
    g_forward_ref(g, gp, z, fake);
    d_forward_ref(g, dp, fake, lf);
    d_forward_ref(g, dp, x, lr);
    return 0.5 * bce_ref(NULL, lr, B, 1.0, 1.0) + 0.5 * bce_ref(NULL, lf, B, 0.0, 1.0);
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

static void test_gradients_by_finite_differences(void **state) {
    (void)state;
    gancl_gan g;
    gancl_gan_init(&g, &rt, TINY, B, B);
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
    gancl_adam_config frozen = {0, 0, 0.5f, 0.999f, 1e-8f}; /* lr 0: gradients only */
    gancl_gan_step(&g, &frozen);
    float *gg = read_floats(g.g_buf, g.g.size, g.g.size), *dg = read_floats(g.d_buf, g.d.size, g.d.size);
    double *gp = ALLOCD(g.g.size), *dp = ALLOCD(g.d.size);
    for (size_t i = 0; i < g.g.size; i++) gp[i] = gpf[i];
    for (size_t i = 0; i < g.d.size; i++) dp[i] = dpf[i];
    const double h = 1e-6;
    double worst = 0;
    for (size_t i = 0; i < g.g.size; i++) {
        double keep = gp[i];
        gp[i] = keep + h;
        double up = g_loss_ref(&g, gp, dp, z);
        gp[i] = keep - h;
        double down = g_loss_ref(&g, gp, dp, z);
        gp[i] = keep;
        double fd = (up - down) / (2 * h);
        worst = fmax(worst, fabs(gg[i] - fd));
        if (!close_enough(gg[i], fd, 2e-5, 1e-3)) fail_msg("dG/dparam[%zu]: device %.8g, finite differences %.8g", i, gg[i], fd);
    }
    for (size_t i = 0; i < g.d.size; i++) {
        double keep = dp[i];
        dp[i] = keep + h;
        double up = d_loss_ref(&g, gp, dp, z, x);
        dp[i] = keep - h;
        double down = d_loss_ref(&g, gp, dp, z, x);
        dp[i] = keep;
        double fd = (up - down) / (2 * h);
        worst = fmax(worst, fabs(dg[i] - fd));
        if (!close_enough(dg[i], fd, 2e-5, 1e-3)) fail_msg("dD/dparam[%zu]: device %.8g, finite differences %.8g", i, dg[i], fd);
    }
    print_message("G: %zu, D: %zu parameters; max |device - finite difference| = %.3g\n", g.g.size, g.d.size, worst);
    free(gpf); free(dpf); free(gg); free(dg); free(gp); free(dp);
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
    gancl_gan_init(&g, &rt, TINY, B, B);
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
    gancl_adam_config opt = {1e-2f, 1e-2f, 0.5f, 0.999f, 1e-8f};
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
