/* test_layers.c: every layer's C reference backward pass against central finite differences
 * of its C reference forward pass, in double (no device). With the self-test comparing each
 * device kernel to these references, every device backward is tied to finite differences. */
#include "testutil.h"
#include "gancl/layers.h"
#include "gancl/selftest.h"

#include <math.h>

static void randomize(double *x, size_t n, uint64_t *rng, double lo, double hi) {
    for (size_t i = 0; i < n; i++) x[i] = gancl_uniform(rng, (float)lo, (float)hi);
}

/* L = sum(r * y) for a fixed random r: dL/dy = r. */
static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void expect_close(const char *what, size_t i, double analytic, double fd) {
    if (fabs(analytic - fd) > 1e-7 + 1e-6 * fabs(fd))
        fail_msg("%s[%zu]: backward %.10g, finite differences %.10g", what, i, analytic, fd);
}

enum { B = 5, IN = 6, OUT = 4, N = 7 };

static void linear_case(gancl_act act) {
    uint64_t rng = 17 + act;
    double x[B * IN], w[OUT * IN], b[OUT], y[B * OUT], r[B * OUT], dy[B * OUT];
    double dx[B * IN], dw[OUT * IN] = {0}, db[OUT] = {0};
    randomize(x, B * IN, &rng, -1, 1);
    randomize(w, OUT * IN, &rng, -1, 1);
    randomize(b, OUT, &rng, -1, 1);
    randomize(r, B * OUT, &rng, -1, 1);
    linear_forward_ref(y, x, w, b, B, IN, OUT, act, 0.2);
    memcpy(dy, r, sizeof dy);
    linear_backward_ref(dx, dw, db, dy, y, x, w, B, IN, OUT, act, 0.2);
    const double h = 1e-6;
    double *params[3] = {x, w, b}, *grads[3] = {dx, dw, db};
    size_t sizes[3] = {B * IN, OUT * IN, OUT};
    const char *names[3] = {"dinp", "dweight", "dbias"};
    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < sizes[p]; i++) {
            double keep = params[p][i];
            params[p][i] = keep + h;
            linear_forward_ref(y, x, w, b, B, IN, OUT, act, 0.2);
            double up = dot(r, y, B * OUT);
            params[p][i] = keep - h;
            linear_forward_ref(y, x, w, b, B, IN, OUT, act, 0.2);
            double down = dot(r, y, B * OUT);
            params[p][i] = keep;
            expect_close(names[p], i, grads[p][i], (up - down) / (2 * h));
        }
}

static void test_linear_leaky(void **state) { (void)state; linear_case(GANCL_ACT_LEAKY); }
static void test_linear_tanh(void **state) { (void)state; linear_case(GANCL_ACT_TANH); }
static void test_linear_none(void **state) { (void)state; linear_case(GANCL_ACT_NONE); }

/* BatchNorm alone (fused = 0) and with the bias and LeakyReLU before it (fused = 1): the
 * gradients at the input (the pre-activation when fused), gamma/beta and the bias. */
static void batchnorm_case(int fused, int S) {
    uint64_t rng = 23 + (uint64_t)fused;
    const gancl_act act = fused ? GANCL_ACT_LEAKY : GANCL_ACT_NONE;
    double x[B * N * 3], a[B * N * 3], gb[2 * N], bias[N], y[B * N * 3], r[B * N * 3], saved[2 * N], run[2 * N];
    double dx[B * N * 3], dgb[2 * N] = {0}, db[N] = {0};
    const int BNS = B * N * S;
    randomize(x, BNS, &rng, -2, 2);
    randomize(gb, 2 * N, &rng, 0.5, 1.5);
    randomize(bias, N, &rng, -0.5, 0.5);
    randomize(r, BNS, &rng, -1, 1);
    memcpy(a, x, sizeof x); /* the forward pass replaces its input by BatchNorm's input */
    batchnorm_forward_ref(y, saved, run, a, fused ? bias : NULL, gb, B, N, 1e-3, 0.2, 1, act, 0.2, S);
    batchnorm_backward_ref(dx, dgb, fused ? db : NULL, r, a, gb, saved, B, N, act, 0.2, S);
    const double h = 1e-6;
    double *params[3] = {x, gb, bias}, *grads[3] = {dx, dgb, db};
    size_t sizes[3] = {(size_t)BNS, 2 * N, fused ? N : 0};
    const char *names[3] = {"dinp", "dgb", "dbias"};
    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < sizes[p]; i++) {
            double keep = params[p][i], tmp[B * N * 3];
            params[p][i] = keep + h;
            memcpy(tmp, x, sizeof x);
            batchnorm_forward_ref(y, saved, run, tmp, fused ? bias : NULL, gb, B, N, 1e-3, 0.2, 1, act, 0.2, S);
            double up = dot(r, y, (size_t)BNS);
            params[p][i] = keep - h;
            memcpy(tmp, x, sizeof x);
            batchnorm_forward_ref(y, saved, run, tmp, fused ? bias : NULL, gb, B, N, 1e-3, 0.2, 1, act, 0.2, S);
            double down = dot(r, y, (size_t)BNS);
            params[p][i] = keep;
            expect_close(names[p], i, grads[p][i], (up - down) / (2 * h));
        }
}

static void test_batchnorm(void **state) {
    (void)state;
    batchnorm_case(0, 1);
    batchnorm_case(1, 1);
    batchnorm_case(0, 3); /* BatchNorm2d: 3 positions per channel */
}

/* Conv2d and ConvTranspose2d: every gradient of L = sum(r * y) by finite differences. */
static void conv_case(int transposed) {
    const int CB = 2, OC = 3, Cin = 2;
    gancl_conv_geom g = transposed ? gancl_convt_geom_make(2, 3, 4, 3, 2, 1, 1) : gancl_conv_geom_make(2, 5, 4, 3, 2, 1);
    const int in_ch = transposed ? Cin : g.C, out_ch = transposed ? g.C : OC;
    const size_t ni = (size_t)CB * in_ch * (transposed ? g.OH * g.OW : g.H * g.W);
    const size_t no = (size_t)CB * out_ch * (transposed ? g.H * g.W : g.OH * g.OW);
    const size_t nw = (size_t)(transposed ? Cin : OC) * g.C * g.K * g.K;
    double x[256], w[256], b[8], y[512], r[512], dx[256], dw[256] = {0}, db[8] = {0};
    uint64_t rng = 60 + (uint64_t)transposed;
    randomize(x, ni, &rng, -1, 1);
    randomize(w, nw, &rng, -1, 1);
    randomize(b, OC, &rng, -1, 1);
    randomize(r, no, &rng, -1, 1);
#define FORWARD() (transposed ? convt2d_forward_ref(y, x, w, g, Cin, CB) : conv2d_forward_ref(y, x, w, b, g, OC, CB))
    if (transposed) convt2d_backward_ref(dx, dw, r, x, w, g, Cin, CB);
    else conv2d_backward_ref(dx, dw, db, r, x, w, g, OC, CB);
    double *params[3] = {x, w, b}, *grads[3] = {dx, dw, db};
    size_t sizes[3] = {ni, nw, transposed ? 0 : (size_t)OC};
    const char *names[3] = {"dinp", "dweight", "dbias"};
    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < sizes[p]; i++) {
            double h = 1e-6, keep = params[p][i];
            params[p][i] = keep + h;
            FORWARD();
            double up = dot(r, y, no);
            params[p][i] = keep - h;
            FORWARD();
            double down = dot(r, y, no);
            params[p][i] = keep;
            expect_close(names[p], i, grads[p][i], (up - down) / (2 * h));
        }
#undef FORWARD
}

static void test_conv(void **state) {
    (void)state;
    conv_case(0);
    conv_case(1);
}

/* The transposed convolution is the adjoint of the convolution: <conv(x), y> = <x, convT(y)>. */
static void test_convt_is_adjoint(void **state) {
    (void)state;
    gancl_conv_geom g = gancl_conv_geom_make(2, 6, 5, 3, 2, 1); /* 2x6x5 -> 3 ch of 3x3 */
    const int OC = 3, CB = 2;
    double x[120], y[54], w[54], cx[54], ty[120];
    uint64_t rng = 70;
    randomize(x, 120, &rng, -1, 1);
    randomize(y, 54, &rng, -1, 1);
    randomize(w, 54, &rng, -1, 1);
    conv2d_forward_ref(cx, x, w, NULL, g, OC, CB);
    convt2d_forward_ref(ty, y, w, g, OC, CB); /* the same weight tensor [OC, C, K, K] */
    assert_true(fabs(dot(cx, y, 54) - dot(x, ty, 120)) < 1e-12);
}

static void test_dropout_mask(void **state) {
    (void)state;
    enum { M = 100000 };
    int kept = 0;
    for (size_t i = 0; i < M; i++) kept += dropout_keep_ref(i, 0.3f, 9, 8, 7, 6);
    assert_true(fabs(kept / (double)M - 0.7) < 0.006); /* 4 standard errors */
    assert_int_equal(dropout_keep_ref(12345, 0.0f, 1, 2, 3, 4), 1); /* p = 0 keeps everything */
}

static void test_losses(void **state) {
    (void)state;
    /* no logit at a hinge kink (+-1), where the derivative does not exist */
    double l[9] = {-40, -3, -0.5, 0, 0.25, 1.5, 4, 12, 45}, dl[9];
    const struct { gancl_loss_kind kind; double y; } cases[] = {
        {GANCL_LOSS_KIND_BCE, 0}, {GANCL_LOSS_KIND_BCE, 1}, {GANCL_LOSS_KIND_LINEAR, -1},
        {GANCL_LOSS_KIND_LINEAR, 1}, {GANCL_LOSS_KIND_HINGE, -1}, {GANCL_LOSS_KIND_HINGE, 1}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        double loss = gan_loss_ref(dl, l, 9, cases[c].kind, cases[c].y, 1.0 / 9); /* d(mean) */
        assert_true(isfinite(loss));
        for (int i = 0; i < 9; i++) {
            double h = 1e-6, keep = l[i];
            l[i] = keep + h;
            double up = gan_loss_ref(NULL, l, 9, cases[c].kind, cases[c].y, 1.0);
            l[i] = keep - h;
            double down = gan_loss_ref(NULL, l, 9, cases[c].kind, cases[c].y, 1.0);
            l[i] = keep;
            expect_close("dlogit", (size_t)i, dl[i], (up - down) / (2 * h));
        }
    }
    /* values against the textbook formulas */
    double zero = 0, two = 2;
    assert_true(fabs(gan_loss_ref(NULL, &zero, 1, GANCL_LOSS_KIND_BCE, 1, 1) - log(2.0)) < 1e-15);
    assert_true(gan_loss_ref(NULL, &two, 1, GANCL_LOSS_KIND_HINGE, -1, 1) == 0);  /* max(0, 1 - 2) */
    assert_true(gan_loss_ref(NULL, &two, 1, GANCL_LOSS_KIND_HINGE, 1, 1) == 3);   /* max(0, 1 + 2) */
    assert_true(gan_loss_ref(NULL, &two, 1, GANCL_LOSS_KIND_LINEAR, -1, 1) == -2);
}

/* The semi-supervised GAN's K+1-class losses: gradients by finite differences, and the values
 * against the definition with an 11th logit fixed at 0, written out the long way. */
static void test_kplus1_losses(void **state) {
    (void)state;
    enum { KB = 4, K = 10 };
    uint64_t rng = 41;
    double l[KB * K], dl[KB * K];
    randomize(l, KB * K, &rng, -8, 5);
    for (int k = 0; k < K; k++) l[3 * K + k] -= 30; /* a row with lse far below 0 */
    const double w[2][2] = {{-0.5, 0.5}, {0.0, 0.5}}; /* unlabelled real rows, fakes */
    for (int c = 0; c < 2; c++) {
        double mean_d;
        const double loss = kplus1_loss_ref(dl, l, KB, K, w[c][0], w[c][1], 1.0, &mean_d);
        for (int i = 0; i < KB * K; i++) {
            const double h = 1e-6, keep = l[i];
            l[i] = keep + h;
            const double up = kplus1_loss_ref(NULL, l, KB, K, w[c][0], w[c][1], 1.0, NULL);
            l[i] = keep - h;
            const double down = kplus1_loss_ref(NULL, l, KB, K, w[c][0], w[c][1], 1.0, NULL);
            l[i] = keep;
            expect_close("kplus1 dlogit", (size_t)i, dl[i], (up - down) / (2 * h) * KB); /* dl: of the sum */
        }
        /* the long way: p(fake) = 1 / (1 + sum exp l_k); real rows -log(1 - p(fake)) / 2,
         * fakes -log p(fake) / 2; D(x) = 1 - p(fake) */
        double want = 0, d = 0;
        for (int b = 0; b < KB; b++) {
            double z = 0;
            for (int k = 0; k < K; k++) z += exp(l[b * K + k]);
            const double p_real = z / (1 + z), p_fake = 1 / (1 + z); /* 1 - p_fake, without cancellation */
            want += c == 0 ? -0.5 * log(p_real) : -0.5 * log(p_fake);
            d += p_real;
        }
        if (fabs(loss - want / KB) > 1e-12 || fabs(mean_d - d / KB) > 1e-12)
            fail_msg("kplus1 case %d: loss %.15g (want %.15g), mean D(x) %.15g (want %.15g)", c, loss, want / KB, mean_d,
                     d / KB);
    }
}

/* Feature matching: the gradient for the fakes by finite differences, the value by the
 * definition. */
static void test_feature_matching(void **state) {
    (void)state;
    enum { FB = 5, F = 7 };
    uint64_t rng = 43;
    double real[FB * F], fake[FB * F], d[FB * F];
    randomize(real, FB * F, &rng, 0, 3);
    randomize(fake, FB * F, &rng, 0, 2);
    const double loss = feature_match_ref(d, real, fake, FB, F, 1.0);
    for (int i = 0; i < FB * F; i++) {
        const double h = 1e-6, keep = fake[i];
        fake[i] = keep + h;
        const double up = feature_match_ref(NULL, real, fake, FB, F, 1.0);
        fake[i] = keep - h;
        const double down = feature_match_ref(NULL, real, fake, FB, F, 1.0);
        fake[i] = keep;
        expect_close("feature matching dfake", (size_t)i, d[i], (up - down) / (2 * h));
    }
    double want = 0;
    for (int k = 0; k < F; k++) {
        double mr = 0, mf = 0;
        for (int b = 0; b < FB; b++) mr += real[b * F + k] / FB, mf += fake[b * F + k] / FB;
        want += (mf - mr) * (mf - mr) / F;
    }
    assert_true(fabs(loss - want) < 1e-12);
}

static void test_gp_direction(void **state) {
    (void)state;
    /* u = dGP/dg by finite differences of GP(g) = lambda mean (||g_b|| - 1)^2 */
    enum { GB = 3, GI = 4 };
    uint64_t rng = 31;
    double g[GB * GI], u[GB * GI];
    randomize(g, GB * GI, &rng, -1, 1);
    memcpy(u, g, sizeof g);
    gp_direction_ref(u, GB, GI, 10.0);
    for (int i = 0; i < GB * GI; i++) {
        double h = 1e-6, keep = g[i], tmp[GB * GI];
        g[i] = keep + h;
        memcpy(tmp, g, sizeof g);
        double up = gp_direction_ref(tmp, GB, GI, 10.0);
        g[i] = keep - h;
        memcpy(tmp, g, sizeof g);
        double down = gp_direction_ref(tmp, GB, GI, 10.0);
        g[i] = keep;
        expect_close("dGP/dg", (size_t)i, u[i], (up - down) / (2 * h));
    }
}

static void test_rmsprop_step(void **state) {
    (void)state;
    double p[1] = {1.0}, g[1] = {0.5}, v[1] = {0.0};
    rmsprop_ref(p, g, v, 1, 0.01, 0.99, 0.0);
    /* v = 0.01 * 0.25, step = lr * g / sqrt(v) = 0.01 * 0.5 / 0.05 = 0.1 */
    assert_true(fabs(v[0] - 0.0025) < 1e-15);
    assert_true(fabs(p[0] - 0.9) < 1e-12);
}

static void test_philox_known_answer(void **state) {
    (void)state;
    /* Random123's published known-answer vectors for philox4x32-10 */
    uint32_t out[4];
    const uint32_t c0[4] = {0, 0, 0, 0}, k0[2] = {0, 0};
    philox4x32_10_ref(c0, k0, out);
    const uint32_t e0[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
    assert_memory_equal(out, e0, sizeof e0);
    const uint32_t c1[4] = {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, k1[2] = {0xffffffff, 0xffffffff};
    philox4x32_10_ref(c1, k1, out);
    const uint32_t e1[4] = {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd};
    assert_memory_equal(out, e1, sizeof e1);
    const uint32_t c2[4] = {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, k2[2] = {0xa4093822, 0x299f31d0};
    philox4x32_10_ref(c2, k2, out);
    const uint32_t e2[4] = {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1};
    assert_memory_equal(out, e2, sizeof e2);
}

static void test_randn_moments(void **state) {
    (void)state;
    enum { M = 200000 };
    float *z = malloc(M * sizeof *z);
    randn_ref(z, M, 1, 2, 3, 4);
    double s = 0, ss = 0;
    for (int i = 0; i < M; i++) {
        s += z[i];
        ss += (double)z[i] * z[i];
    }
    double mean = s / M, var = ss / M - mean * mean;
    assert_true(fabs(mean) < 0.01); /* 4.5 standard errors */
    assert_true(fabs(var - 1) < 0.015);
    free(z);
}

static void test_adam_first_step(void **state) {
    (void)state;
    /* step 1: m = (1-b1) g, v = (1-b2) g^2, so the update is lr * g / (|g| + eps*sqrt(1-b2)) ~ lr*sign(g) */
    double p[2] = {1.0, -2.0}, g[2] = {0.3, -1e-3}, m[2] = {0}, v[2] = {0};
    adam_ref(p, g, m, v, 2, 0.1, 0.5, 0.999, 1e-8, 1);
    assert_true(fabs(p[0] - 0.9) < 1e-6);
    assert_true(fabs(p[1] - (-1.9)) < 1e-4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_leaky), cmocka_unit_test(test_linear_tanh),
        cmocka_unit_test(test_linear_none),  cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_losses), cmocka_unit_test(test_kplus1_losses),
        cmocka_unit_test(test_feature_matching), cmocka_unit_test(test_gp_direction),
        cmocka_unit_test(test_rmsprop_step), cmocka_unit_test(test_conv),
        cmocka_unit_test(test_convt_is_adjoint), cmocka_unit_test(test_dropout_mask),          cmocka_unit_test(test_philox_known_answer),
        cmocka_unit_test(test_randn_moments), cmocka_unit_test(test_adam_first_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
