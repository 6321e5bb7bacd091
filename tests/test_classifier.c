/* test_classifier.c: gan-cl's digit classifier. On a small generated data set: training, the
 * cache (a second open loads the same network; a damaged file, a file of another training
 * set and a foreign file are rejected and the classifier trained again), and predictions that
 * are probabilities. With $GANCL_MNIST_DIR: the accuracy on the real 10,000 test images,
 * at least 99.0% (measured: 99.30%; the score issue's goal is 99.3%, and other GEMM kernels
 * sum in other orders, so the test keeps a margin); the trained classifier is kept in the
 * build directory, so a rerun is fast. Then the scores' ordering: the default MLP GAN after
 * 10 epochs scores clearly better than after 1, and uniform noise and a constant image far
 * worse than either. */
#include "gancl/checkpoint.h"
#include "gancl/classifier.h"
#include "gancl/evaluate.h"
#include "gancl/fsutil.h"
#include "gancl/gemm.h"
#include "gancl/selftest.h"
#include "gancl/train.h"
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
    assert_int_equal(gancl_train(&rt, &cfg, &tr, NULL), 0);
    char ck[700];
    snprintf(ck, sizeof ck, "%s/gan/checkpoint.safetensors", root);
    gancl_scores s1, s10, noise, flat;
    score_checkpoint(&sc, ck, N, &s1);
    cfg.epochs = 10;
    cfg.resume = ck;
    cfg.out_dir[0] = 0;
    assert_int_equal(gancl_train(&rt, &cfg, &tr, NULL), 0);
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
    /* gan-cl's k-blocked GEMM kernel for every product: fast on a CPU without a tuning run */
    return open_test_runtime(&rt, &device, gancl_gemm_method_find("blk-64x32"));
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
