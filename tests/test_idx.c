/* test_idx.c: the IDX reader and data-set loader on generated files (raw and gzip) and on
 * every kind of broken file; the real MNIST in $GANCL_MNIST_DIR and Fashion-MNIST when present. */
#include "testutil.h"
#include "gancl/check.h"
#include "gancl/mnist.h"

#include <zlib.h>

static char dir[512];

/* An IDX image file of n r x c images with pixel (i, y, x) = (i * 7 + y * 3 + x) & 255. */
static uint8_t *make_images(uint32_t n, uint32_t r, uint32_t c, size_t *len) {
    *len = 16 + (size_t)n * r * c;
    uint8_t *b = malloc(*len);
    put_be32(b, 2051); put_be32(b + 4, n); put_be32(b + 8, r); put_be32(b + 12, c);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t y = 0; y < r; y++)
            for (uint32_t x = 0; x < c; x++)
                b[16 + ((size_t)i * r + y) * c + x] = (uint8_t)((i * 7 + y * 3 + x) & 255);
    return b;
}

static uint8_t *make_labels(uint32_t n, size_t *len) {
    *len = 8 + n;
    uint8_t *b = malloc(*len);
    put_be32(b, 2049); put_be32(b + 4, n);
    for (uint32_t i = 0; i < n; i++) b[8 + i] = (uint8_t)(i % 10);
    return b;
}

static char *path_of(const char *name) {
    static char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

/* Loads `name` expecting failure with a message that contains `needle` and the file name. */
static void expect_error(const char *name, const char *needle) {
    gancl_idx idx;
    char err[GANCL_ERR_LEN] = "";
    assert_int_equal(gancl_idx_load(path_of(name), &idx, err), -1);
    if (!strstr(err, needle) || !strstr(err, name)) fail_msg("message for %s was: %s", name, err);
    assert_null(idx.data);
}

static void test_good_raw_and_gzip(void **state) {
    (void)state;
    size_t n;
    uint8_t *b = make_images(5, 28, 28, &n);
    write_bytes(path_of("img.raw"), b, n);
    write_gz(path_of("img.gz"), b, n);
    for (int gz = 0; gz < 2; gz++) {
        gancl_idx idx;
        char err[GANCL_ERR_LEN];
        assert_int_equal(gancl_idx_load(path_of(gz ? "img.gz" : "img.raw"), &idx, err), 0);
        assert_int_equal(idx.magic, 2051);
        assert_int_equal(idx.count, 5);
        assert_int_equal(idx.rows, 28);
        assert_int_equal(idx.cols, 28);
        assert_memory_equal(idx.data, b + 16, n - 16);
        gancl_idx_free(&idx);
    }
    free(b);
}

static void test_broken_files(void **state) {
    (void)state;
    size_t n, ln;
    uint8_t *b = make_images(4, 28, 28, &n);
    uint8_t *l = make_labels(30, &ln);

    write_bytes(path_of("empty"), "", 0);
    expect_error("empty", "empty file");

    b[3] = 0x04; /* magic 2052 */
    write_bytes(path_of("badmagic"), b, n);
    expect_error("badmagic", "bad magic number 2052");
    b[3] = 0x03;

    write_bytes(path_of("trunc"), b, n - 100);
    char want[128];
    snprintf(want, sizeof want, "truncated: expected %zu bytes, got %zu", n, n - 100);
    expect_error("trunc", want);

    write_bytes(path_of("short-header"), b, 10);
    expect_error("short-header", "truncated");

    put_be32(b + 4, 5); /* header claims 5 images, 4 present */
    write_bytes(path_of("count"), b, n);
    expect_error("count", "truncated: expected");
    put_be32(b + 4, 3); /* claims 3, 4 present */
    write_bytes(path_of("count3"), b, n);
    expect_error("count3", "wrong size");
    put_be32(b + 4, 4);

    put_be32(b + 8, 0);
    write_bytes(path_of("zerorows"), b, n);
    expect_error("zerorows", "bad image size");
    put_be32(b + 8, 28);

    l[8 + 17] = 12;
    write_bytes(path_of("label"), l, ln);
    expect_error("label", "label out of range: item 17 has label 12");
    l[8 + 17] = 7;

    uint8_t garbage[200];
    for (int i = 0; i < 200; i++) garbage[i] = (uint8_t)(i * 37 + 11);
    garbage[0] = 0x1f;
    garbage[1] = 0x8b;
    write_bytes(path_of("garbage.gz"), garbage, sizeof garbage);
    expect_error("garbage.gz", "corrupt gzip data");

    /* a gzip file cut in the middle, and one cut just before its 8-byte trailer */
    write_gz(path_of("whole.gz"), b, n);
    uint8_t *gz;
    size_t gzn;
    char err[GANCL_ERR_LEN];
    FILE *f = fopen(path_of("whole.gz"), "rb");
    assert_non_null(f);
    gz = malloc(1 << 20);
    gzn = fread(gz, 1, 1 << 20, f);
    fclose(f);
    write_bytes(path_of("cut.gz"), gz, gzn / 2);
    expect_error("cut.gz", "truncated");
    write_bytes(path_of("notrailer.gz"), gz, gzn - 4);
    expect_error("notrailer.gz", "truncated gzip stream");
    write_bytes(path_of("tiny.gz"), gz, 12);
    expect_error("tiny.gz", "truncated gzip stream");
    gz[gzn - 6] ^= 0x55; /* corrupt the CRC32 in the trailer */
    write_bytes(path_of("badcrc.gz"), gz, gzn);
    expect_error("badcrc.gz", "corrupt gzip data");

    gancl_idx idx;
    assert_int_equal(gancl_idx_load(path_of("does-not-exist"), &idx, err), -1);
    assert_non_null(strstr(err, "does-not-exist: cannot open"));
    free(gz);
    free(b);
    free(l);
}

/* A data directory of generated files; `mutate` breaks it in one way. */
static void make_set(const char *sub, uint32_t n_img, uint32_t n_lab, uint32_t side) {
    char d[1024], p[1200];
    snprintf(d, sizeof d, "%s/%s", dir, sub);
    assert_int_equal(mkdir(d, 0755), 0);
    size_t n, ln;
    uint8_t *b = make_images(n_img, side, side, &n);
    uint8_t *l = make_labels(n_lab, &ln);
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", d);
    write_gz(p, b, n);
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte", d); /* raw works too */
    write_bytes(p, l, ln);
    free(b);
    free(l);
}

static void test_dataset(void **state) {
    (void)state;
    gancl_dataset ds;
    char err[GANCL_ERR_LEN], p[1200];
    make_set("ok", 12, 12, 28);
    snprintf(p, sizeof p, "%s/ok", dir);
    assert_int_equal(gancl_dataset_load(p, 1, &ds, err), 0);
    assert_int_equal(ds.images.count, 12);
    assert_int_equal(ds.labels.data[11], 1);
    assert_int_equal(ds.images.data[5 * 784 + 2 * 28 + 3], (5 * 7 + 2 * 3 + 3) & 255);
    gancl_dataset_free(&ds);
    assert_int_equal(gancl_data_is_official(p, GANCL_TRAIN_IMAGES), -1); /* dir, unreadable */
    snprintf(p, sizeof p, "%s/ok/train-labels-idx1-ubyte", dir);
    assert_int_equal(gancl_data_is_official(p, GANCL_TRAIN_LABELS), 0);

    make_set("counts", 12, 11, 28);
    snprintf(p, sizeof p, "%s/counts", dir);
    assert_int_equal(gancl_dataset_load(p, 1, &ds, err), -1);
    assert_non_null(strstr(err, "has 12 images but train-labels-idx1-ubyte has 11 labels"));

    make_set("size", 3, 3, 32);
    snprintf(p, sizeof p, "%s/size", dir);
    assert_int_equal(gancl_dataset_load(p, 1, &ds, err), -1);
    assert_non_null(strstr(err, "images are 32x32, gan-cl needs 28x28"));

    snprintf(p, sizeof p, "%s/ok", dir);
    assert_int_equal(gancl_dataset_load(p, 0, &ds, err), -1); /* no test split there */
    assert_non_null(strstr(err, "t10k-images-idx3-ubyte.gz: missing"));
}

static void test_real_mnist(void **state) {
    (void)state;
    const char *d = getenv("GANCL_MNIST_DIR");
    if (!d || !d[0]) {
        print_message("GANCL_MNIST_DIR is not set: skipping the real-MNIST checks\n");
        skip();
    }
    gancl_dataset train, test;
    char err[GANCL_ERR_LEN];
    if (gancl_dataset_load(d, 1, &train, err)) fail_msg("%s", err);
    if (gancl_dataset_load(d, 0, &test, err)) fail_msg("%s", err);
    assert_int_equal(train.images.count, 60000);
    assert_int_equal(test.images.count, 10000);
    const uint8_t first[5] = {5, 0, 4, 1, 9};
    assert_memory_equal(train.labels.data, first, 5);
    for (int w = 0; w < GANCL_N_FILES; w++) {
        char p[4096];
        assert_int_equal(gancl_data_find(d, w, p, sizeof p), 0);
        assert_int_equal(gancl_data_is_official(p, w), 1);
    }
    gancl_dataset_free(&train);
    gancl_dataset_free(&test);
}

static void test_fashion_mnist(void **state) {
    (void)state;
    const char *d = "/usr/share/datasets/fashion-mnist";
    char p[4096], err[GANCL_ERR_LEN];
    if (gancl_data_find(d, GANCL_TRAIN_IMAGES, p, sizeof p)) {
        print_message("%s not installed (apt-get install dataset-fashion-mnist): skipping\n", d);
        skip();
    }
    gancl_dataset ds;
    if (gancl_dataset_load(d, 1, &ds, err)) fail_msg("%s", err);
    assert_int_equal(ds.images.count, 60000);
    assert_int_equal(gancl_data_is_official(p, GANCL_TRAIN_IMAGES), 0);
    gancl_dataset_free(&ds);
}

static int setup(void **state) {
    (void)state;
    make_temp_dir(dir, sizeof dir);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    remove_tree(dir);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_raw_and_gzip),
        cmocka_unit_test(test_broken_files),
        cmocka_unit_test(test_dataset),
        cmocka_unit_test(test_real_mnist),
        cmocka_unit_test(test_fashion_mnist),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
