/* test_score.c: the scores (score.h) against NumPy and SciPy: the eigendecomposition, FID,
 * and precision and recall on the device and in the C reference, on feature sets both sides
 * make from splitmix64 (tests/fixtures/score_reference.txt, from tools/make_score_fixture.py);
 * the Inception-Score-like value and the class histogram on cases with known answers. */
#include "gancl/evaluate.h"
#include "gancl/score.h"
#include "gancl/selftest.h"
#include "testutil.h"

#include <math.h>

static gancl_device_info device;
static gancl_runtime rt;

enum { DIM = 32, N_REAL = 500, N_FAKE = 400, N_REAL2 = 450 };

/* As features() in tools/make_score_fixture.py. */
static float *features(int n, double scale, double shift, double corr, uint64_t seed) {
    float *out = malloc((size_t)n * DIM * sizeof *out);
    assert_non_null(out);
    uint64_t s = seed;
    for (int i = 0; i < n; i++) {
        double prev = 0;
        for (int j = 0; j < DIM; j++) {
            const double a = (gancl_splitmix64(&s) >> 11) * (1.0 / 9007199254740992.0);
            const double b = (gancl_splitmix64(&s) >> 11) * (1.0 / 9007199254740992.0);
            const double c = (gancl_splitmix64(&s) >> 11) * (1.0 / 9007199254740992.0);
            const double base = a + b + c - 1.5;
            const double x = base * scale * (1.0 + (double)j / DIM) + shift + corr * prev;
            prev = x;
            out[(size_t)i * DIM + j] = (float)x;
        }
    }
    return out;
}

/* The numbers after `key` in the fixture. */
static int fixture(const char *key, double *v, int max) {
    char path[4096];
    snprintf(path, sizeof path, "%s/score_reference.txt", getenv("GANCL_FIXTURES"));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[16384];
    int n = -1;
    while (n < 0 && fgets(line, sizeof line, f)) {
        char *p = line;
        if (strncmp(p, key, strlen(key)) || p[strlen(key)] != ' ') continue;
        p += strlen(key);
        n = 0;
        for (char *end; n < max; p = end) {
            v[n] = strtod(p, &end);
            if (end == p) break;
            n++;
        }
    }
    fclose(f);
    assert_true(n > 0);
    return n;
}

static double one(const char *key) {
    double v;
    fixture(key, &v, 1);
    return v;
}

static void test_features_match_the_script(void **state) {
    (void)state;
    float *real = features(N_REAL, 1.0, 0.0, 0.3, 1), *fake = features(N_FAKE, 0.8, 0.1, 0.5, 2);
    double want[3];
    assert_int_equal(fixture("first_features", want, 3), 3);
    assert_float_equal(real[0], want[0], 1e-8);
    assert_float_equal(real[1], want[1], 1e-8);
    assert_float_equal(fake[(size_t)(N_FAKE - 1) * DIM + DIM - 1], want[2], 1e-8);
    free(real);
    free(fake);
}

static void test_eigendecomposition(void **state) {
    (void)state;
    float *real = features(N_REAL, 1.0, 0.0, 0.3, 1);
    double mu[DIM], cov[DIM * DIM], a[DIM * DIM], w[DIM], v[DIM * DIM], want[DIM];
    gancl_feature_stats(real, N_REAL, DIM, mu, cov);
    memcpy(a, cov, sizeof a);
    gancl_symeig(a, DIM, w, v);
    assert_int_equal(fixture("eigenvalues", want, DIM), DIM);
    for (int i = 0; i < DIM; i++) assert_float_equal(w[i], want[i], 1e-10 * (1 + fabs(want[i])));
    for (int i = 0; i < DIM; i++) /* v diag(w) v^T gives cov back */
        for (int j = 0; j < DIM; j++) {
            double x = 0;
            for (int k = 0; k < DIM; k++) x += v[i * DIM + k] * w[k] * v[j * DIM + k];
            assert_float_equal(x, cov[i * DIM + j], 1e-10);
        }
    free(real);
}

static double fid_of(const float *x, int nx, const float *y, int ny) {
    double mu1[DIM], c1[DIM * DIM], mu2[DIM], c2[DIM * DIM];
    gancl_feature_stats(x, nx, DIM, mu1, c1);
    gancl_feature_stats(y, ny, DIM, mu2, c2);
    return gancl_fid(mu1, c1, mu2, c2, DIM);
}

static void test_fid(void **state) {
    (void)state;
    float *real = features(N_REAL, 1.0, 0.0, 0.3, 1), *fake = features(N_FAKE, 0.8, 0.1, 0.5, 2),
          *real2 = features(N_REAL2, 1.0, 0.0, 0.3, 3);
    const double a = one("fid_real_fake"), b = one("fid_real_real2");
    assert_float_equal(fid_of(real, N_REAL, fake, N_FAKE), a, 1e-8 * a);
    assert_float_equal(fid_of(fake, N_FAKE, real, N_REAL), a, 1e-8 * a); /* symmetric */
    assert_float_equal(fid_of(real, N_REAL, real2, N_REAL2), b, 1e-8 * b);
    assert_true(fabs(fid_of(real, N_REAL, real, N_REAL)) < 1e-9);
    free(real);
    free(fake);
    free(real2);
}

/* The device's precision and recall within one sample of SciPy's (its distances are float32
 * dot products), the C reference's exactly. */
static void check_pr(const float *x, int nx, const float *y, int ny, const char *pkey, const char *rkey) {
    const double p = one(pkey), r = one(rkey);
    double *rx = malloc(nx * sizeof *rx), *ry = malloc(ny * sizeof *ry);
    gancl_knn_radius_ref(rx, x, nx, DIM);
    gancl_knn_radius_ref(ry, y, ny, DIM);
    assert_float_equal(gancl_coverage_ref(x, rx, nx, y, ny, DIM), p, 1e-12);
    assert_float_equal(gancl_coverage_ref(y, ry, ny, x, nx, DIM), r, 1e-12);
    gancl_manifold mx, my;
    gancl_manifold_make(&mx, &rt, x, nx, DIM);
    gancl_manifold_make(&my, &rt, y, ny, DIM);
    const double dp = gancl_manifold_coverage(&mx, &my), dr = gancl_manifold_coverage(&my, &mx);
    printf("  %s %.4f (SciPy %.4f)  %s %.4f (SciPy %.4f)\n", pkey, dp, p, rkey, dr, r);
    assert_float_equal(dp, p, 1.01 / ny);
    assert_float_equal(dr, r, 1.01 / nx);
    float got[N_REAL];
    gancl_read(&rt, mx.radius, 0, nx * sizeof *got, got);
    for (int i = 0; i < nx; i++) assert_float_equal(got[i], rx[i], 1e-4 * (1 + rx[i]));
    gancl_manifold_free(&mx);
    gancl_manifold_free(&my);
    free(rx);
    free(ry);
}

static void test_precision_recall(void **state) {
    (void)state;
    float *real = features(N_REAL, 1.0, 0.0, 0.3, 1), *fake = features(N_FAKE, 0.8, 0.1, 0.5, 2),
          *real2 = features(N_REAL2, 1.0, 0.0, 0.3, 3);
    check_pr(real, N_REAL, fake, N_FAKE, "precision_real_fake", "recall_real_fake");
    check_pr(real, N_REAL, real2, N_REAL2, "precision_real_real2", "recall_real_real2");
    free(real);
    free(fake);
    free(real2);
}

/* The same with the queries in blocks of 7 (the radii's too): block boundaries change nothing. */
static void test_precision_recall_in_blocks(void **state) {
    (void)state;
    float *real = features(N_REAL, 1.0, 0.0, 0.3, 1), *fake = features(N_FAKE, 0.8, 0.1, 0.5, 2);
    gancl_score_set_block_limit(7 * N_REAL);
    check_pr(real, N_REAL, fake, N_FAKE, "precision_real_fake", "recall_real_fake");
    gancl_score_set_block_limit(0);
    free(real);
    free(fake);
}

/* A collapsed set (every sample the same point) has radius 0: nothing else lies inside it. */
static void test_precision_recall_identical_points(void **state) {
    (void)state;
    enum { N = 64 };
    float same[N * DIM], spread[N * DIM];
    uint64_t s = 9;
    for (int i = 0; i < N * DIM; i++) {
        same[i] = 0.5f;
        spread[i] = gancl_uniform(&s, -1, 1);
    }
    gancl_manifold a, b;
    gancl_manifold_make(&a, &rt, same, N, DIM);
    gancl_manifold_make(&b, &rt, spread, N, DIM);
    assert_float_equal(gancl_manifold_coverage(&a, &b), 0.0, 0);
    assert_float_equal(gancl_manifold_coverage(&a, &a), 1.0, 0);
    gancl_manifold_free(&a);
    gancl_manifold_free(&b);
}

static void test_class_scores(void **state) {
    (void)state;
    enum { N = 200 };
    float probs[N * GANCL_CLASSES];
    double hist[GANCL_CLASSES];
    for (int i = 0; i < N * GANCL_CLASSES; i++) probs[i] = (i % GANCL_CLASSES) == (i / GANCL_CLASSES) % GANCL_CLASSES;
    /* sure of itself, every class as often: IS 10, a flat histogram */
    assert_float_equal(gancl_inception_like(probs, N), 10.0, 1e-9);
    assert_float_equal(gancl_class_histogram(probs, N, hist), 0.0, 1e-12);
    for (int k = 0; k < GANCL_CLASSES; k++) assert_float_equal(hist[k], 0.1, 1e-12);
    /* always the same class: IS 1, KL log 10 */
    for (int i = 0; i < N * GANCL_CLASSES; i++) probs[i] = i % GANCL_CLASSES == 7;
    assert_float_equal(gancl_inception_like(probs, N), 1.0, 1e-9);
    assert_float_equal(gancl_class_histogram(probs, N, hist), log(10.0), 1e-12);
    assert_float_equal(hist[7], 1.0, 1e-12);
    /* unsure (uniform): IS 1 */
    for (int i = 0; i < N * GANCL_CLASSES; i++) probs[i] = 0.1f;
    assert_float_equal(gancl_inception_like(probs, N), 1.0, 1e-6);
    /* half sure of 3, half sure of 4: IS 2, KL log 5 */
    for (int i = 0; i < N * GANCL_CLASSES; i++) probs[i] = i % GANCL_CLASSES == (i / GANCL_CLASSES < N / 2 ? 3 : 4);
    assert_float_equal(gancl_inception_like(probs, N), 2.0, 1e-9);
    assert_float_equal(gancl_class_histogram(probs, N, hist), log(5.0), 1e-12);
}

/* The collapse warning: a class under 1%, or KL to uniform above 0.5, naming the digit. */
static void test_collapse_warning(void **state) {
    (void)state;
    gancl_scores s;
    char msg[256];
    memset(&s, 0, sizeof s);
    for (int k = 0; k < GANCL_CLASSES; k++) s.hist[k] = 0.1;
    assert_int_equal(gancl_scores_collapse(&s, msg, sizeof msg), 0);
    assert_int_equal(gancl_scores_classes_present(&s), 10);
    s.hist[3] = 0.005, s.hist[4] = 0.195; /* one class rare */
    assert_int_equal(gancl_scores_collapse(&s, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "digit 3 is 0.5% of them"));
    assert_int_equal(gancl_scores_classes_present(&s), 9);
    for (int k = 0; k < GANCL_CLASSES; k++) s.hist[k] = k == 8; /* all one digit */
    s.kl_uniform = log(10.0);
    assert_int_equal(gancl_scores_collapse(&s, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "digit 8 is 100.0% of them"));
    for (int k = 0; k < GANCL_CLASSES; k++) s.hist[k] = k < 2 ? 0.4 : 0.025; /* skewed, none missing */
    s.kl_uniform = 0;
    for (int k = 0; k < GANCL_CLASSES; k++) s.kl_uniform += s.hist[k] * log(s.hist[k] * GANCL_CLASSES); /* 0.83 */
    assert_true(s.kl_uniform > 0.5);
    assert_int_equal(gancl_scores_collapse(&s, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "digit 0 is 40.0%"));
}

static int setup(void **state) {
    (void)state;
    return open_test_runtime(&rt, &device, GANCL_GEMM_AUTO);
}

static int teardown(void **state) {
    (void)state;
    gancl_runtime_free(&rt);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_match_the_script),
        cmocka_unit_test(test_eigendecomposition),
        cmocka_unit_test(test_fid),
        cmocka_unit_test(test_precision_recall),
        cmocka_unit_test(test_precision_recall_in_blocks),
        cmocka_unit_test(test_precision_recall_identical_points),
        cmocka_unit_test(test_class_scores),
        cmocka_unit_test(test_collapse_warning),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
