/* test_classifier.c: gan-cl's digit classifier. On a small generated data set: training, the
 * cache (a second open loads the same network; a damaged file, a file of another training
 * set and a foreign file are rejected and the classifier trained again), and predictions that
 * are probabilities. With $GANCL_MNIST_DIR: the accuracy on the real 10,000 test images,
 * at least 99.0% (measured: 99.30%; the score issue's goal is 99.3%, and other GEMM kernels
 * sum in other orders, so the test keeps a margin); the trained classifier is kept in the
 * build directory, so a rerun is fast. The first 300 test digits as users' pictures (PNG,
 * enlarged, off-centre, coloured, on a transparent background) through `classify`'s picture
 * path, classified within 2 points of the IDX digits. Then the scores' ordering: the default MLP GAN after
 * 10 epochs scores clearly better than after 1, and uniform noise and a constant image far
 * worse than either. */
#include "gancl/checkpoint.h"
#include "gancl/classifier.h"
#include "gancl/digit.h"
#include "gancl/evaluate.h"
#include "gancl/fsutil.h"
#include "gancl/gemm.h"
#include "gancl/selftest.h"
#include "gancl/train.h"
#include "gancl/tune.h"
#include "testutil.h"

#include <math.h>

static gancl_device_info device;
static gancl_runtime rt;
static char root[512];

/* n images of class y = i % 10: a bright bar whose row depends on the class, with noise. */
static void make_split(gancl_dataset *ds, uint32_t n, uint64_t seed) {
    memset(ds, 0, sizeof *ds);
    ds->images.magic = GANCL_IDX_IMAGES;
    ds->images.count = ds->labels.count = n;
    ds->images.rows = ds->images.cols = 28;
    ds->labels.magic = GANCL_IDX_LABELS;
    ds->images.data = calloc((size_t)n * 784, 1);
    ds->labels.data = calloc(n, 1);
    uint64_t rng = seed;
    for (uint32_t i = 0; i < n; i++) {
        const int y = (int)(i % 10), row = 3 + 2 * y;
        ds->labels.data[i] = (uint8_t)y;
        uint8_t *img = ds->images.data + (size_t)i * 784;
        for (int k = 0; k < 784; k++) img[k] = (uint8_t)(gancl_splitmix64(&rng) % 40);
        for (int x = 4; x < 24; x++) img[row * 28 + x] = img[(row + 1) * 28 + x] = 250;
    }
}

static void free_split(gancl_dataset *ds) {
    free(ds->images.data);
    free(ds->labels.data);
}

static int open_classifier(gancl_classifier *c, const gancl_dataset *tr, const gancl_dataset *te) {
    char err[GANCL_ERR_LEN];
    int trained = -1;
    if (gancl_classifier_open(c, &rt, tr, te, 1, &trained, err)) fail_msg("%s", err);
    return trained;
}

static void test_train_and_cache(void **state) {
    (void)state;
    char cache[600];
    snprintf(cache, sizeof cache, "%s/cache", root);
    setenv("XDG_CACHE_HOME", cache, 1);
    gancl_dataset tr, te;
    make_split(&tr, 640, 1);
    make_split(&te, 200, 2);
    gancl_classifier c;
    assert_int_equal(open_classifier(&c, &tr, &te), 1);
    char path[4200];
    snprintf(path, sizeof path, "%s", c.path);
    assert_true(gancl_file_exists(path));
    float *p1 = malloc(200 * 10 * sizeof *p1), *p2 = malloc(200 * 10 * sizeof *p2);
    gancl_classifier_predict(&c, te.images.data, 200, p1);
    for (int i = 0; i < 200; i++) {
        double s = 0;
        for (int k = 0; k < 10; k++) {
            assert_true(p1[i * 10 + k] >= 0 && p1[i * 10 + k] <= 1);
            s += p1[i * 10 + k];
        }
        assert_true(fabs(s - 1) < 1e-5);
    }
    double acc = gancl_classifier_accuracy(&c, &te, NULL);
    print_message("generated bars: test accuracy %.1f%% after training\n", 100 * acc);
    assert_true(acc > 0.95); /* ten clearly different bars */
    gancl_classifier_free(&c);

    /* from the cache: the same network, the same predictions */
    assert_int_equal(open_classifier(&c, &tr, &te), 0);
    gancl_classifier_predict(&c, te.images.data, 200, p2);
    assert_memory_equal(p1, p2, 200 * 10 * sizeof *p1);
    gancl_classifier_free(&c);

    /* a truncated file: rejected, trained again, rewritten whole */
    size_t n;
    uint8_t *bytes;
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_read_file(path, &bytes, &n, err), 0);
    write_bytes(path, bytes, n / 2);
    assert_int_equal(open_classifier(&c, &tr, &te), 1);
    gancl_classifier_free(&c);
    size_t n2;
    uint8_t *again;
    assert_int_equal(gancl_read_file(path, &again, &n2, err), 0);
    assert_int_equal(n2, n);
    free(again);

    /* another training set's classifier under this name: rejected */
    gancl_checkpoint ck;
    assert_int_equal(gancl_checkpoint_open(path, &ck, err), 0);
    const char *key = gancl_meta_get(&ck.meta, "train_sha256");
    assert_non_null(key);
    char *k = strstr((char *)bytes + 8, key);
    assert_non_null(k);
    k[0] = k[0] == '0' ? '1' : '0';
    gancl_checkpoint_close(&ck);
    write_bytes(path, bytes, n);
    assert_int_equal(open_classifier(&c, &tr, &te), 1);
    gancl_classifier_free(&c);

    /* not a checkpoint at all */
    write_bytes(path, "hello", 5);
    assert_int_equal(open_classifier(&c, &tr, &te), 1);
    gancl_classifier_free(&c);
    assert_int_equal(open_classifier(&c, &tr, &te), 0);
    gancl_classifier_free(&c);
    free(bytes);
    free(p1);
    free(p2);
    free_split(&tr);
    free_split(&te);
}

/* Test digit i as a user's picture: `kind` 0: 10x larger, dark on light, off-centre in a
 * 400 x 360 grey page; 1: 3x larger, dark blue on beige, RGB; 2: its own size, opaque ink on a
 * transparent background (RGBA). */
static uint8_t *user_picture(const uint8_t *digit, int i, int kind, size_t *n) {
    const int z = kind == 0 ? 10 : kind == 1 ? 3 : 1, W = kind == 0 ? 400 : 28 * z + 40, H = kind == 0 ? 360 : 28 * z + 20;
    const int ox = kind == 0 ? 10 + (i * 37) % 100 : 17, oy = kind == 0 ? 5 + (i * 53) % 70 : 9, ch = kind == 0 ? 1 : kind == 1 ? 3 : 4;
    uint8_t *pix = malloc((size_t)W * H * ch);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const int sx = (x - ox) / z, sy = (y - oy) / z;
            const int v = x >= ox && y >= oy && sx < 28 && sy < 28 ? digit[sy * 28 + sx] : 0; /* ink 0..255 */
            uint8_t *p = pix + ((size_t)y * W + x) * ch;
            if (kind == 0) p[0] = (uint8_t)(230 - v * 200 / 255);
            else if (kind == 1) p[0] = (uint8_t)(245 - v * 225 / 255), p[1] = (uint8_t)(235 - v * 200 / 255), p[2] = (uint8_t)(200 - v * 60 / 255);
            else p[0] = p[1] = p[2] = 10, p[3] = (uint8_t)v;
        }
    uint8_t *png = png_encode_format(pix, W, H, kind == 0 ? PNG_FORMAT_GRAY : kind == 1 ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA, n);
    free(pix);
    return png;
}

/* The first 300 test digits through `classify`'s picture path (PNG encoding by libpng, then
 * digit.c's preparation) in three kinds of picture: accuracy close to that on the IDX digits. */
static void png_round_trip(gancl_classifier *c, const gancl_dataset *te) {
    enum { N = 300 };
    uint8_t *imgs = malloc((size_t)N * 784);
    float *probs = malloc((size_t)N * GANCL_CLASSES * sizeof *probs);
    int right[4] = {0};
    for (int kind = -1; kind < 3; kind++) {
        for (int i = 0; i < N; i++) {
            const uint8_t *digit = te->images.data + (size_t)i * 784;
            if (kind < 0) {
                memcpy(imgs + (size_t)i * 784, digit, 784);
                continue;
            }
            size_t n;
            char err[GANCL_ERR_LEN];
            uint8_t *png = user_picture(digit, i, kind, &n);
            if (gancl_digit_from_png(png, n, imgs + (size_t)i * 784, err)) fail_msg("test digit %d, picture %d: %s", i, kind, err);
            free(png);
        }
        gancl_classifier_predict(c, imgs, N, probs);
        for (int i = 0; i < N; i++) {
            const float *p = probs + (size_t)i * GANCL_CLASSES;
            int best = 0;
            for (int k = 1; k < GANCL_CLASSES; k++) best = p[k] > p[best] ? k : best;
            right[kind + 1] += best == te->labels.data[i];
        }
    }
    print_message("the first %d test digits: %d right as IDX images; as pictures: %d (10x, grey page, "
                  "off-centre), %d (3x, blue on beige), %d (transparent background)\n", N, right[0], right[1],
                  right[2], right[3]);
    for (int k = 1; k < 4; k++) assert_true(right[k] >= right[0] - 6); /* within 2 points */
    free(imgs);
    free(probs);
}

static void test_real_mnist_accuracy(void **state) {
    (void)state;
    const char *dir = getenv("GANCL_MNIST_DIR"), *keep = getenv("GANCL_CLASSIFIER_CACHE");
    if (!dir || !dir[0]) {
        print_message("GANCL_MNIST_DIR is not set: skipping the classifier on the real MNIST\n");
        skip();
    }
    if (keep) setenv("XDG_CACHE_HOME", keep, 1);
    char err[GANCL_ERR_LEN];
    gancl_dataset tr, te;
    if (gancl_dataset_load(dir, 1, &tr, err) || gancl_dataset_load(dir, 0, &te, err)) fail_msg("%s", err);
    gancl_classifier c;
    int trained = -1;
    if (gancl_classifier_open(&c, &rt, &tr, &te, 0, &trained, err)) fail_msg("%s", err);
    long conf[GANCL_CLASSES][GANCL_CLASSES];
    double acc = gancl_classifier_accuracy(&c, &te, conf);
    long total = 0, diag = 0;
    for (int y = 0; y < GANCL_CLASSES; y++)
        for (int p = 0; p < GANCL_CLASSES; p++) total += conf[y][p], diag += y == p ? conf[y][p] : 0;
    print_message("MNIST test accuracy %.2f%% (%s)\n", 100 * acc, trained ? "trained now" : "cached");
    assert_int_equal(total, 10000);
    assert_int_equal(diag, (long)lround(acc * 10000));
    assert_true(acc >= 0.990);
    png_round_trip(&c, &te);
    gancl_classifier_free(&c);
    gancl_dataset_free(&tr);
    gancl_dataset_free(&te);
}

static void print_scores(const char *what, const gancl_scores *s) {
    char line[200];
    gancl_scores_line(s, line, sizeof line);
    print_message("%-22s %s\n", what, line);
}

/* Samples of the default MLP GAN's checkpoint at `path`, scored. */
static void score_checkpoint(const gancl_scorer *sc, const char *path, int n, gancl_scores *out) {
    gancl_gan gan;
    char err[GANCL_ERR_LEN];
    if (gancl_checkpoint_open_generator(path, &gan, &rt, 256, err)) fail_msg("%s", err);
    gancl_scorer_score_gan(sc, &gan, n, 1, out);
    gancl_gan_free(&gan);
}

static void test_real_mnist_score_ordering(void **state) {
    (void)state;
    const char *dir = getenv("GANCL_MNIST_DIR"), *keep = getenv("GANCL_CLASSIFIER_CACHE");
    if (!dir || !dir[0]) {
        print_message("GANCL_MNIST_DIR is not set: skipping the score ordering on the real MNIST\n");
        skip();
    }
    if (keep) setenv("XDG_CACHE_HOME", keep, 1);
    enum { N = 5000 };
    char err[GANCL_ERR_LEN];
    gancl_dataset tr;
    if (gancl_dataset_load(dir, 1, &tr, err)) fail_msg("%s", err);
    gancl_scorer sc;
    if (gancl_scorer_open(&sc, &rt, &tr, dir, 0, 1, err)) fail_msg("%s", err);
    /* the default MLP GAN: 1 epoch, then resumed to 10 */
    gancl_train_config cfg = gancl_train_defaults();
    cfg.epochs = 1;
    cfg.quiet = 1;
    snprintf(cfg.out_dir, sizeof cfg.out_dir, "%s/gan", root);
    assert_int_equal(gancl_train(&rt, &cfg, &tr, NULL, NULL), 0);
    char ck[700];
    snprintf(ck, sizeof ck, "%s/gan/checkpoint.safetensors", root);
    gancl_scores s1, s10, noise, flat;
    score_checkpoint(&sc, ck, N, &s1);
    cfg.epochs = 10;
    cfg.resume = ck;
    cfg.out_dir[0] = 0;
    assert_int_equal(gancl_train(&rt, &cfg, &tr, NULL, NULL), 0);
    score_checkpoint(&sc, ck, N, &s10);
    uint8_t *px = malloc((size_t)N * 784);
    uint64_t rng = 3;
    for (size_t i = 0; i < (size_t)N * 784; i++) px[i] = (uint8_t)gancl_splitmix64(&rng);
    gancl_score_images(&sc.ref, px, NULL, N, &noise);
    memset(px, 128, (size_t)N * 784);
    gancl_score_images(&sc.ref, px, NULL, N, &flat);
    free(px);
    print_scores("MLP GAN, 1 epoch:", &s1);
    print_scores("MLP GAN, 10 epochs:", &s10);
    print_scores("uniform noise:", &noise);
    print_scores("constant gray image:", &flat);
    assert_true(s10.fid < 0.5 * s1.fid);
    assert_true(s10.recall > s1.recall + 0.1);
    assert_true(s10.is > s1.is);
    assert_true(gancl_scores_classes_present(&s10) == 10);
    const double worst = s1.fid > s10.fid ? s1.fid : s10.fid;
    const gancl_scores *bad[2] = {&noise, &flat};
    for (int k = 0; k < 2; k++) {
        assert_true(bad[k]->fid > 1.5 * worst);
        assert_true(bad[k]->recall == 0);
        assert_true(bad[k]->is < 1.5);
        assert_true(gancl_scores_classes_present(bad[k]) <= 2);
    }
    gancl_scorer_free(&sc);
    gancl_dataset_free(&tr);
}

static int setup(void **state) {
    (void)state;
    make_temp_dir(root, sizeof root);
    if (open_test_runtime(&rt, &device, GANCL_GEMM_AUTO)) return -1;
    /* as `gan-cl classifier` starts: its GEMMs tuned quickly unless they are (the tuning file
     * kept with the classifier cache, or in this test's own directory) */
    const char *keep = getenv("GANCL_CLASSIFIER_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
    char *was = xdg ? strdup(xdg) : NULL;
    setenv("XDG_CACHE_HOME", keep && keep[0] ? keep : root, 1);
    const gancl_workload w = gancl_workload_default(GANCL_MODEL_CLASSIFIER, GANCL_CLASSIFIER_BATCH, GANCL_LOSS_BCE);
    gancl_tuning_prepare(&rt, &w, 1, stdout);
    if (was) setenv("XDG_CACHE_HOME", was, 1);
    else unsetenv("XDG_CACHE_HOME");
    free(was);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    gancl_runtime_free(&rt);
    remove_tree(root);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_and_cache),
        cmocka_unit_test(test_real_mnist_accuracy),
        cmocka_unit_test(test_real_mnist_score_ordering),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
