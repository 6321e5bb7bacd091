/* test_train.c: the training job end to end through the gan-cl binary, on a small generated
 * data set: determinism, resume equivalence (at an epoch boundary and mid-epoch), generate,
 * damaged checkpoints, bad flags, Ctrl-C; and a short run on the real MNIST when
 * $GANCL_MNIST_DIR is set. */
#include "testutil.h"
#include "gancl/check.h"
#include "gancl/fsutil.h"
#include "gancl/json.h"
#include "gancl/mnist.h"

#include <math.h>
#include <signal.h>
#include <time.h>
#include <zlib.h>

static char root[512], data[600];

static char *at(const char *sub) {
    static char p[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", root, sub);
    return p[k];
}

/* The whole file, with a NUL after it. */
static uint8_t *slurp(const char *path, size_t *n) {
    uint8_t *d;
    char err[GANCL_ERR_LEN];
    if (gancl_read_file(path, &d, n, err)) fail_msg("%s", err);
    uint8_t *whole = realloc(d, *n + 1);
    if (!whole) fail_msg("out of memory");
    whole[*n] = 0;
    return whole;
}

static void assert_same_file(const char *a, const char *b) {
    size_t na, nb;
    uint8_t *da = slurp(a, &na), *db = slurp(b, &nb);
    if (na != nb || memcmp(da, db, na)) fail_msg("%s and %s differ", a, b);
    free(da);
    free(db);
}

/* The loss columns (3-6) of every row of a metrics.csv, as text. */
static void loss_columns(const char *path, char *dst, size_t len) {
    size_t n;
    uint8_t *d = slurp(path, &n);
    dst[0] = 0;
    char *save, *line = strtok_r((char *)d, "\n", &save);
    for (line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c = line;
        for (int k = 0; k < 2; k++) c = strchr(c, ',') + 1; /* skip epoch, step */
        char *end = c;
        for (int k = 0; k < 4; k++) end = strchr(end, ',') + 1;
        strncat(dst, line, (size_t)(strchr(line, ',') - line) + 1);
        strncat(dst, c, (size_t)(end - c));
        strncat(dst, "\n", len - strlen(dst) - 1);
    }
    free(d);
}

#define TRAIN(...) run_gan(NULL, "--data", data, "--offline", "--batch-size", "32", "--seed", "5", "--quiet", __VA_ARGS__, NULL)

static void test_determinism_and_resume(void **state) {
    (void)state;
    assert_int_equal(TRAIN("--steps", "12", "--log-every", "4", "--out", at("A")), 0);
    assert_int_equal(TRAIN("--steps", "12", "--log-every", "4", "--out", at("B")), 0);
    assert_same_file(at("A/checkpoint.safetensors"), at("B/checkpoint.safetensors"));
    static char la[8192], lb[8192];
    loss_columns(at("A/metrics.csv"), la, sizeof la);
    loss_columns(at("B/metrics.csv"), lb, sizeof lb);
    assert_string_equal(la, lb);
    assert_true(strlen(la) > 40);

    /* 2 epochs in one run == 1 epoch + a resumed epoch == 5 steps + resumed to 2 epochs */
    assert_int_equal(TRAIN("--epochs", "2", "--out", at("C")), 0);
    assert_int_equal(TRAIN("--epochs", "1", "--out", at("D")), 0);
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--quiet", "--epochs", "2", "--resume",
                         at("D/checkpoint.safetensors"), NULL), 0);
    assert_same_file(at("C/checkpoint.safetensors"), at("D/checkpoint.safetensors"));
    assert_int_equal(TRAIN("--steps", "5", "--out", at("E")), 0);
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--quiet", "--epochs", "2", "--resume",
                         at("E/checkpoint.safetensors"), NULL), 0);
    assert_same_file(at("C/checkpoint.safetensors"), at("E/checkpoint.safetensors"));
    loss_columns(at("C/metrics.csv"), la, sizeof la);
    loss_columns(at("D/metrics.csv"), lb, sizeof lb);
    assert_string_equal(la, lb);
    /* wgan-gp: stopped inside a cycle of 5 critic steps, resumed, equal to one run */
    assert_int_equal(TRAIN("--loss", "wgan-gp", "--epochs", "2", "--out", at("W1")), 0);
    assert_int_equal(TRAIN("--loss", "wgan-gp", "--steps", "7", "--out", at("W2")), 0);
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--quiet", "--epochs", "2", "--resume",
                             at("W2/checkpoint.safetensors"), NULL), 0);
    assert_same_file(at("W1/checkpoint.safetensors"), at("W2/checkpoint.safetensors"));
    /* the run directory has its outputs and no temporary files */
    const char *expect[] = {"C/samples/epoch_001.png", "C/samples/epoch_002.png", "C/metrics.csv",
                            "C/losses.svg", "C/config.json", "C/checkpoint.safetensors", "C/progress.png"};
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) assert_true(gancl_file_exists(at(expect[i])));
    assert_int_equal(count_entries(at("C")), 6); /* and progress.png */
    assert_int_equal(count_entries(at("C/samples")), 2);
    /* nothing left to do */
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--epochs", "2", "--resume",
                         at("C/checkpoint.safetensors"), NULL), 0);
    EXPECT("nothing to do");
}

/* The width and height in a PNG's IHDR. */
static void png_size(const char *path, int *w, int *h) {
    size_t n;
    uint8_t *png = slurp(path, &n);
    assert_true(n > 24);
    assert_memory_equal(png + 1, "PNG", 3);
    *w = png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19];
    *h = png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23];
    free(png);
}

static void test_generate(void **state) {
    (void)state;
    char ck[1024];
    snprintf(ck, sizeof ck, "%s", at("C/checkpoint.safetensors"));
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ck, "--count", "10", "--format", "idx", "--out", at("g1.idx"), NULL), 0);
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ck, "--count", "10", "--format", "idx", "--out", at("g2.idx"), NULL), 0);
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ck, "--count", "10", "--format", "idx", "--seed", "9", "--out", at("g3.idx"), NULL), 0);
    assert_same_file(at("g1.idx"), at("g2.idx"));
    gancl_idx a, b;
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_idx_load(at("g1.idx"), &a, err), 0);
    assert_int_equal(gancl_idx_load(at("g3.idx"), &b, err), 0);
    assert_int_equal(a.count, 10);
    assert_int_equal(a.rows, 28);
    assert_true(memcmp(a.data, b.data, 7840) != 0);
    gancl_idx_free(&a);
    gancl_idx_free(&b);
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ck, "--count", "5", "--out", at("g.png"), NULL), 0);
    int w, h; /* 5 images: a 3 x 2 grid of 28-pixel tiles with 2 pixels of padding */
    png_size(at("g.png"), &w, &h);
    assert_int_equal(w, 3 * 28 + 4 * 2);
    assert_int_equal(h, 2 * 28 + 3 * 2);
}

/* The DCGAN end to end: trains, writes a checkpoint with PyTorch's conv shapes, generates,
 * resumes bit-identically, and refuses a --model that contradicts the checkpoint. */
static void test_dcgan(void **state) {
    (void)state;
#define DCGAN(...) run_gan(NULL, "--data", data, "--offline", "--seed", "5", "--quiet", "--model", "dcgan", \
                        "--batch-size", "8", __VA_ARGS__, NULL)
    assert_int_equal(DCGAN("--steps", "4", "--out", at("G1")), 0);
    assert_int_equal(DCGAN("--steps", "2", "--out", at("G2")), 0);
#undef DCGAN
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--quiet", "--steps", "4", "--resume",
                             at("G2/checkpoint.safetensors"), NULL), 0);
    assert_same_file(at("G1/checkpoint.safetensors"), at("G2/checkpoint.safetensors"));
    size_t n;
    char *ck = (char *)slurp(at("G1/checkpoint.safetensors"), &n);
    if (!strstr(ck + 8, "\"generator.4.weight\":{\"dtype\":\"F32\",\"shape\":[256,128,5,5]") ||
        !strstr(ck + 8, "\"discriminator.3.weight\":{\"dtype\":\"F32\",\"shape\":[128,64,5,5]"))
        fail_msg("conv tensors missing or not in PyTorch's layout");
    free(ck);
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", at("G1/checkpoint.safetensors"), "--count", "3",
                             "--format", "idx", "--out", at("g.idx"), NULL), 0);
    gancl_idx idx;
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_idx_load(at("g.idx"), &idx, err), 0);
    assert_int_equal(idx.count, 3);
    gancl_idx_free(&idx);
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--model", "mlp", "--steps", "6", "--resume",
                             at("G1/checkpoint.safetensors"), NULL), 1);
    EXPECT("--model conflicts with the checkpoint (a dcgan)");
}

/* A PNG's (or an APNG frame's) zlib data inflated: h rows of a filter byte and w pixels. */
static uint8_t *inflate_frame(const uint8_t *z, size_t zn, int w, int h) {
    uLongf n = (uLongf)(w + 1) * h, got = n + 1;
    uint8_t *raw = malloc(n + 1);
    assert_non_null(raw);
    assert_int_equal(uncompress(raw, &got, z, (uLong)zn), Z_OK);
    assert_int_equal(got, n);
    return raw;
}

/* The data of every chunk of `type` in a PNG file, in order: kept in out[], count returned.
 * fdAT chunks lose their sequence number. */
static int chunks_of(const uint8_t *d, size_t n, const char *type, uint8_t **out, size_t *len, int max) {
    int k = 0;
    for (size_t o = 8; o + 12 <= n;) {
        size_t cl = (size_t)d[o] << 24 | (size_t)d[o + 1] << 16 | (size_t)d[o + 2] << 8 | d[o + 3];
        if (!memcmp(d + o + 4, type, 4) && k < max) {
            const int skip = !strcmp(type, "fdAT") ? 4 : 0;
            out[k] = (uint8_t *)d + o + 8 + skip;
            len[k++] = cl - skip;
        }
        o += 12 + cl;
    }
    return k;
}

/* A conditional run: checkpoint names and metadata, bit-identical resume (the conditioning
 * kept without the flag), one digit per row in the grids, progress.png's frames equal to the
 * grids, generate --digit / --digits / --interpolate, the labels IDX file, and refusals. */
static void test_conditional(void **state) {
    (void)state;
    assert_int_equal(TRAIN("--conditional", "--d-conditioning", "concat", "--epochs", "2", "--out", at("K1")), 0);
    assert_int_equal(TRAIN("--conditional", "--d-conditioning", "concat", "--steps", "5", "--out", at("K2")), 0);
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--quiet", "--epochs", "2", "--resume",
                             at("K2/checkpoint.safetensors"), NULL), 0);
    assert_same_file(at("K1/checkpoint.safetensors"), at("K2/checkpoint.safetensors"));
    /* the projection discriminator, the default: its tensors under the Projection module's
     * children, the choice in the metadata, kept on resume (bit-identical), a contradiction
     * refused */
    assert_int_equal(TRAIN("--conditional", "--steps", "6", "--out", at("P1")), 0);
    assert_int_equal(TRAIN("--conditional", "--d-conditioning", "projection", "--steps", "2", "--out", at("P2")), 0);
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--quiet", "--steps", "6", "--resume",
                             at("P2/checkpoint.safetensors"), NULL), 0);
    assert_same_file(at("P1/checkpoint.safetensors"), at("P2/checkpoint.safetensors"));
    size_t n;
    char *pk = (char *)slurp(at("P1/checkpoint.safetensors"), &n);
    if (!strstr(pk + 8, "\"discriminator.0.weight\":{\"dtype\":\"F32\",\"shape\":[512,784]") ||
        !strstr(pk + 8, "\"discriminator.6.linear.weight\":{\"dtype\":\"F32\",\"shape\":[1,256]") ||
        !strstr(pk + 8, "\"discriminator.6.linear.bias\":{\"dtype\":\"F32\",\"shape\":[1]") ||
        !strstr(pk + 8, "\"discriminator.6.embed.weight\":{\"dtype\":\"F32\",\"shape\":[10,256]") ||
        !strstr(pk + 8, "\"d_conditioning\":\"projection\""))
        fail_msg("the projection D's tensors or its metadata are not in the checkpoint as expected");
    free(pk);
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--steps", "8", "--d-conditioning", "concat",
                             "--resume", at("P1/checkpoint.safetensors"), NULL), 1);
    EXPECT("--d-conditioning concat conflicts with the checkpoint (its D is projection)");
    char *ck = (char *)slurp(at("K1/checkpoint.safetensors"), &n);
    if (!strstr(ck + 8, "\"generator.0.weight\":{\"dtype\":\"F32\",\"shape\":[10,10]") ||
        !strstr(ck + 8, "\"generator.1.weight\":{\"dtype\":\"F32\",\"shape\":[256,110]") ||
        !strstr(ck + 8, "\"discriminator.0.weight\":{\"dtype\":\"F32\",\"shape\":[10,10]") ||
        !strstr(ck + 8, "\"discriminator.1.weight\":{\"dtype\":\"F32\",\"shape\":[512,794]") ||
        !strstr(ck + 8, "\"classes\":\"10\"") || !strstr(ck + 8, "\"d_dropout\":\"0.4") ||
        !strstr(ck + 8, "\"discriminator.4.weight\":{\"dtype\":\"F32\",\"shape\":[256,512]"))
        fail_msg("the Embedding tensors, the classes or D's dropout are not in the checkpoint as expected");
    free(ck);
    /* a 10 x 10 grid, one digit per row; progress.png holds both epochs' grids */
    int w, h;
    png_size(at("K1/samples/epoch_002.png"), &w, &h);
    assert_int_equal(w, 10 * 28 + 11 * 2);
    assert_int_equal(h, w);
    uint8_t *apng = slurp(at("K1/progress.png"), &n), *frame[4];
    size_t len[4];
    assert_int_equal(chunks_of(apng, n, "acTL", frame, len, 4), 1);
    assert_int_equal(frame[0][3], 2); /* frames */
    assert_int_equal(chunks_of(apng, n, "fcTL", frame, len, 4), 2);
    for (int e = 1; e <= 2; e++) {
        char grid[64];
        snprintf(grid, sizeof grid, "K1/samples/epoch_%03d.png", e);
        size_t gn;
        uint8_t *png = slurp(at(grid), &gn), *gz[1];
        size_t glen[1];
        assert_int_equal(chunks_of(png, gn, "IDAT", gz, glen, 1), 1);
        int k = chunks_of(apng, n, e == 1 ? "IDAT" : "fdAT", frame, len, 4);
        assert_int_equal(k, 1);
        uint8_t *a = inflate_frame(frame[0], len[0], w, h), *b = inflate_frame(gz[0], glen[0], w, h);
        assert_memory_equal(a, b, (size_t)(w + 1) * h);
        free(a);
        free(b);
        free(png);
    }
    free(apng);
    if (system("command -v pngcheck > /dev/null 2>&1") == 0) { /* when installed: a valid APNG */
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "pngcheck -q '%s'", at("K1/progress.png"));
        assert_int_equal(system(cmd), 0);
    } else {
        print_message("pngcheck is not installed: progress.png checked by its frames alone\n");
    }
    /* --digit: the labels file next to the images */
    const char *k1 = at("K1/checkpoint.safetensors");
    char ckpt[1024];
    snprintf(ckpt, sizeof ckpt, "%s", k1);
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ckpt, "--digit", "7", "--count", "20", "--format",
                             "idx", "--out", at("seven-images-idx3-ubyte"), NULL), 0);
    EXPECT("seven-labels-idx1-ubyte");
    gancl_idx img, lab;
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_idx_load(at("seven-images-idx3-ubyte"), &img, err), 0);
    assert_int_equal(gancl_idx_load(at("seven-labels-idx1-ubyte"), &lab, err), 0);
    assert_int_equal(img.count, 20);
    assert_int_equal(lab.count, 20);
    for (int i = 0; i < 20; i++) assert_int_equal(lab.data[i], 7);
    gancl_idx_free(&img);
    gancl_idx_free(&lab);
    /* --digits: a row of --count per digit, labels in row order */
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ckpt, "--digits", "0123456789", "--count", "3",
                             "--out", at("rows.png"), NULL), 0);
    png_size(at("rows.png"), &w, &h);
    assert_int_equal(w, 3 * 28 + 4 * 2);
    assert_int_equal(h, 10 * 28 + 11 * 2);
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ckpt, "--digits", "305", "--count", "2", "--format",
                             "idx", "--out", at("rows.idx"), NULL), 0);
    assert_int_equal(gancl_idx_load(at("rows.idx-labels-idx1-ubyte"), &lab, err), 0);
    const uint8_t want[6] = {3, 3, 0, 0, 5, 5};
    assert_int_equal(lab.count, 6);
    assert_memory_equal(lab.data, want, 6);
    gancl_idx_free(&lab);
    /* --interpolate: a strip; between two digits, its ends are those digits at one noise */
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ckpt, "--digits", "38", "--interpolate", "--out",
                             at("strip.png"), NULL), 0);
    png_size(at("strip.png"), &w, &h);
    assert_int_equal(w, 10 * 28 + 11 * 2);
    assert_int_equal(h, 28 + 2 * 2);
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ckpt, "--digits", "38", "--interpolate", "--count",
                             "2", "--format", "idx", "--out", at("ends.idx"), NULL), 0);
    /* the strip's ends: the first noise vector drawn as a 3, and as an 8 */
    gancl_idx ends, one;
    assert_int_equal(gancl_idx_load(at("ends.idx"), &ends, err), 0);
    for (int e = 0; e < 2; e++) {
        assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ckpt, "--digit", e ? "8" : "3", "--count", "1",
                                 "--format", "idx", "--out", at("one.idx"), NULL), 0);
        assert_int_equal(gancl_idx_load(at("one.idx"), &one, err), 0);
        int worst = 0; /* the same image, up to rounding (GEMMs of 2 rows and of 1) */
        for (int i = 0; i < 784; i++) {
            const int d = abs((int)ends.data[e * 784 + i] - (int)one.data[i]);
            worst = d > worst ? d : worst;
        }
        assert_true(worst <= 1);
        gancl_idx_free(&one);
    }
    gancl_idx_free(&ends);
    /* score: the share drawn as asked, per class (4 of each of 40), beside the classifier's
     * own per-class accuracy on the test set (the classifier test_score trained, cached) */
    char cache[1100], *env[] = {cache, NULL};
    snprintf(cache, sizeof cache, "XDG_CACHE_HOME=%s", at("cache"));
    assert_int_equal(run_gan(env, "score", "--data", data, "--offline", "--checkpoint", ckpt, "--count", "40",
                             "--json", NULL), 0);
    gancl_json j;
    if (gancl_json_parse(gan_out, strlen(gan_out), &j, err)) fail_msg("%s in:\n%s", err, gan_out);
    const gancl_json *smp = gancl_json_get(&j, "samples"), *ceil_ = gancl_json_get(&j, "classifier_test_accuracy");
    assert_non_null(smp);
    assert_non_null(ceil_);
    const gancl_json *per = gancl_json_get(smp, "class_accuracy");
    assert_int_equal(per->n, 10);
    double mean = 0;
    for (int k = 0; k < 10; k++) {
        const double a = per->items[k].number;
        assert_true(a >= 0 && a <= 1);
        assert_float_equal(a * 4, round(a * 4), 1e-9); /* a count out of 4 */
        mean += a / 10;
    }
    assert_float_equal(gancl_json_get(smp, "accuracy")->number, mean, 1e-6);
    assert_int_equal(gancl_json_get(ceil_, "class_accuracy")->n, 10);
    gancl_json_free(&j);
    assert_int_equal(run_gan(env, "score", "--data", data, "--offline", "--checkpoint", ckpt, "--count", "40", NULL), 0);
    EXPECT("digits drawn as asked");
    EXPECT("ceiling: the classifier's own accuracy");
    /* refusals */
    const char *bad[][2] = {{"--digit", "12"}, {"--digit", "x"}, {"--digits", "0a"}, {"--digits", "01234567890"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ckpt, bad[i][0], bad[i][1], "--out", at("x.png"),
                                 NULL), 2);
        EXPECT(bad[i][1]);
        EXPECT("expected");
    }
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ckpt, "--digit", "1", "--digits", "23", "--out",
                             at("x.png"), NULL), 2);
    EXPECT("cannot be combined");
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ckpt, "--interpolate", "--digits", "123", "--out",
                             at("x.png"), NULL), 2);
    EXPECT("expected two digits");
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ckpt, "--interpolate", "--out", at("x.png"), NULL), 1);
    EXPECT("needs --digit D");
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", at("C/checkpoint.safetensors"), "--digit", "7",
                             "--out", at("x.png"), NULL), 1);
    EXPECT("is not a conditional model");
    EXPECT("hint: train one with `gan-cl --conditional`");
    assert_false(gancl_file_exists(at("x.png")));
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--conditional", "--epochs", "3", "--resume",
                             at("C/checkpoint.safetensors"), NULL), 1);
    EXPECT("--conditional conflicts with the checkpoint");
}

/* Writes a variant of the good checkpoint changed by `edit`. */
static void variant(const char *name, void (*edit)(uint8_t **d, size_t *n)) {
    size_t n;
    uint8_t *d = slurp(at("C/checkpoint.safetensors"), &n);
    edit(&d, &n);
    write_bytes(at(name), d, n);
    free(d);
}

static void cut_half(uint8_t **d, size_t *n) { (void)d; *n /= 2; }
static void huge_header(uint8_t **d, size_t *n) { (void)n; (*d)[5] = 0x40; }
static void broken_json(uint8_t **d, size_t *n) { (void)n; (*d)[8] = 'x'; }
static void to_empty(uint8_t **d, size_t *n) { (void)d; *n = 0; }
static void swap_shape(uint8_t **d, size_t *n) {
    (void)n;
    char *s = strstr((char *)*d + 8, "\"shape\":[256,100]");
    assert_non_null(s);
    memcpy(s, "\"shape\":[100,256]", 17); /* same size, other shape */
}
static void foreign(uint8_t **d, size_t *n) {
    const char hdr[] = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    size_t hl = sizeof hdr - 1;
    *d = realloc(*d, 8 + hl + 4);
    memset(*d, 0, 8);
    (*d)[0] = (uint8_t)hl;
    memcpy(*d + 8, hdr, hl);
    memset(*d + 8 + hl, 0, 4);
    *n = 8 + hl + 4;
}

static void test_damaged_checkpoints(void **state) {
    (void)state;
    struct { const char *name; void (*edit)(uint8_t **, size_t *); const char *msg; } cases[] = {
        {"half.st", cut_half, "truncated or damaged"},
        {"huge.st", huge_header, "exceeds the file size"},
        {"json.st", broken_json, "damaged header: invalid JSON"},
        {"empty.st", to_empty, "too short"},
        {"shape.st", swap_shape, "has another shape"},
        {"foreign.st", foreign, "not a gan-cl checkpoint"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        variant(cases[i].name, cases[i].edit);
        assert_int_equal(run_gan(NULL, "generate", "--checkpoint", at(cases[i].name), "--out", at("x.png"), NULL), 1);
        EXPECT(cases[i].msg);
        assert_false(gancl_file_exists(at("x.png")));
        assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--resume", at(cases[i].name), "--out", at("R"), NULL), 1);
        EXPECT(cases[i].msg);
    }
    assert_int_equal(TRAIN("--epochs", "3", "--latent-dim", "20", "--resume", at("C/checkpoint.safetensors")), 1);
    EXPECT("--latent-dim");
    EXPECT("conflicts with the checkpoint (latent_dim = 100)");
}

/* NaN weights (a structurally valid checkpoint): training stops at the first loss it reads,
 * says so, exits 1, and leaves the checkpoint it started from as it was. */
static void test_divergence_stops(void **state) {
    (void)state;
    size_t n;
    uint8_t *d = slurp(at("C/checkpoint.safetensors"), &n);
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--) hlen = hlen << 8 | d[k];
    const uint32_t nan_bits = 0x7fc00000u; /* the first tensor, generator.0.weight, gets NaNs */
    for (int i = 0; i < 64; i++) memcpy(d + 8 + hlen + 4 * (size_t)i, &nan_bits, 4);
    assert_int_equal(mkdir(at("N"), 0755), 0);
    write_bytes(at("N/checkpoint.safetensors"), d, n);
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--epochs", "3", "--log-every", "2",
                             "--resume", at("N/checkpoint.safetensors"), NULL), 1);
    EXPECT("training diverged: a loss is NaN or infinite at step 18");
    EXPECT("the last good checkpoint is");
    size_t n2;
    uint8_t *d2 = slurp(at("N/checkpoint.safetensors"), &n2);
    assert_int_equal(n2, n);
    assert_memory_equal(d2, d, n); /* not overwritten */
    free(d);
    free(d2);
}

static void test_bad_flags(void **state) {
    (void)state;
    struct { int status; const char *msg; char *args[8]; } cases[] = {
        {2, "must be between 1 and", {"--epochs", "0"}},
        {2, "not a whole number", {"--epochs", "ten"}},
        {2, "not a whole number", {"--steps", "1e3"}},
        {2, "must be above 0", {"--lr", "-1"}},
        {2, "not a number", {"--lr", "nan"}},
        {2, "must be at least 0", {"--beta1", "-0.5"}},
        {2, "does not apply to training", {"--count", "5"}},
        {2, "does not apply to generate", {"generate", "--epochs", "3"}},
        {2, "expected png or idx", {"generate", "--checkpoint", "x", "--out", "y", "--format", "bmp"}},
        {2, "generate needs --checkpoint", {"generate", "--out", "y.png"}},
        {2, "given twice", {"--seed", "1", "--seed", "2"}},
        {2, "takes no value", {"--offline=yes"}},
        {2, "expected bce, wgan, wgan-gp or hinge", {"--loss", "lsgan"}},
        {2, "expected mlp, dcgan or ssgan", {"--model", "resnet"}},
        {2, "expected concat or projection", {"--conditional", "--d-conditioning", "both"}},
        {2, "applies only to --conditional models", {"--d-conditioning", "projection"}},
        {2, "expected adam or rmsprop", {"--optimizer", "sgd"}},
        {2, "--clip applies only to --loss wgan", {"--clip", "0.1"}},
        {2, "--gp-weight applies only to --loss wgan-gp", {"--loss", "wgan", "--gp-weight", "5"}},
        {2, "apply only to --optimizer adam", {"--loss", "wgan", "--beta1", "0.5"}},
        {2, "must be between 1 and 100", {"--n-critic", "0"}},
        {1, "no such file", {"--resume", "/nonexistent/checkpoint.safetensors"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *argv[12] = {getenv("GANCL_BIN")};
        int n = 1;
        for (int k = 0; k < 8 && cases[i].args[k]; k++) argv[n++] = cases[i].args[k];
        argv[n] = NULL;
        int st = run_capture(argv, NULL, gan_out, sizeof gan_out);
        if (st != cases[i].status || !strstr(gan_out, cases[i].msg))
            fail_msg("case %zu: status %d, output:\n%s", i, st, gan_out);
    }
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--batch-size", "300", NULL), 1);
    EXPECT("larger than the training set (256 images)");
    assert_int_equal(run_gan(NULL, "--data", at("nowhere"), "--offline", NULL), 1);
    EXPECT("--offline forbids downloading");
}

/* The samples' FID from `gan-cl score --json` of a checkpoint or IDX file. */
static double json_fid(char **env, const char *flag, const char *path, const char *count) {
    if (run_gan(env, "score", "--data", data, "--offline", flag, path, "--count", count, "--json", NULL))
        fail_msg("score failed:\n%s", gan_out);
    gancl_json j;
    char err[GANCL_ERR_LEN];
    if (gancl_json_parse(gan_out, strlen(gan_out), &j, err)) fail_msg("%s in:\n%s", err, gan_out);
    const double fid = gancl_json_get(gancl_json_get(&j, "samples"), "fid")->number;
    gancl_json_free(&j);
    return fid;
}

/* `gan-cl score` on the small data set (its classifier trained on the spot, into a fresh
 * cache), its JSON, its refusals; then training with --score-every writes the scores. */
static void test_score(void **state) {
    (void)state;
    char cache[1100], *env[] = {cache, NULL}, ck[1024], g1[1024];
    snprintf(cache, sizeof cache, "XDG_CACHE_HOME=%s", at("cache"));
    snprintf(ck, sizeof ck, "%s", at("C/checkpoint.safetensors"));
    snprintf(g1, sizeof g1, "%s", at("g1.idx")); /* 10 images, from test_generate */
    assert_int_equal(run_gan(env, "score", "--data", data, "--offline", "--checkpoint", ck, "--count", "40", NULL), 0);
    EXPECT("FID (lower is better)");
    EXPECT("the first 40 training images");
    assert_int_equal(run_gan(env, "score", "--data", data, "--offline", "--images", g1, "--json", NULL), 0);
    gancl_json j;
    char err[GANCL_ERR_LEN];
    if (gancl_json_parse(gan_out, strlen(gan_out), &j, err)) fail_msg("%s in:\n%s", err, gan_out);
    const gancl_json *smp = gancl_json_get(&j, "samples"), *real = gancl_json_get(&j, "real");
    assert_non_null(smp);
    assert_non_null(real);
    assert_int_equal((int)gancl_json_get(smp, "count")->number, 10); /* all the file holds */
    assert_true(gancl_json_get(real, "fid")->number >= 0);
    const double p = gancl_json_get(smp, "precision")->number;
    assert_true(p >= 0 && p <= 1);
    assert_int_equal(gancl_json_get(smp, "class_histogram")->n, 10);
    gancl_json_free(&j);
    /* a checkpoint's samples score as the same images written by generate (with the same
     * cache: kernels that sum in other orders may win a shape's tuning in another cache) */
    const double fid_ck = json_fid(env, "--checkpoint", ck, "40");
    assert_int_equal(run_gan(env, "generate", "--checkpoint", ck, "--count", "40", "--format", "idx", "--out",
                             at("g40.idx"), NULL), 0);
    assert_float_equal(json_fid(env, "--images", at("g40.idx"), "40"), fid_ck, 0);
    /* the refusals */
    char labels[1024], classifier[1100];
    snprintf(labels, sizeof labels, "%s/train-labels-idx1-ubyte.gz", data);
    assert_int_equal(run_gan(env, "score", "--data", data, "--offline", "--images", labels, NULL), 1);
    EXPECT("not 28x28 uint8 images");
    assert_int_equal(run_gan(env, "score", "--data", data, "--offline", "--images", g1, "--count", "20", NULL), 1);
    EXPECT("holds only 10 images");
    assert_int_equal(run_gan(env, "score", "--data", data, "--offline", "--checkpoint", ck, "--count", "300", NULL), 1);
    EXPECT("the floor needs as many real training images, there are 256");
    char find[1200];
    snprintf(find, sizeof find, "ls %s/cache/gan-cl/classifiers/*.safetensors", root);
    FILE *ls = popen(find, "r");
    assert_non_null(ls);
    assert_non_null(fgets(classifier, sizeof classifier, ls));
    pclose(ls);
    classifier[strcspn(classifier, "\n")] = 0;
    assert_int_equal(run_gan(env, "score", "--data", data, "--offline", "--checkpoint", classifier, NULL), 1);
    EXPECT("unsupported model 'classifier'");
    assert_int_equal(run_gan(env, "score", "--data", data, NULL), 2);
    EXPECT("score needs one of --checkpoint FILE or --images FILE.idx");
    assert_int_equal(run_gan(env, "score", "--checkpoint", ck, "--images", g1, NULL), 2);
    assert_int_equal(run_gan(env, "score", "--checkpoint", ck, "--count", "1", NULL), 2);
    EXPECT("must be between 2 and");
    assert_int_equal(run_gan(env, "score", "--checkpoint", ck, "--epochs", "3", NULL), 2);
    EXPECT("does not apply to score");
    /* training scores every epoch (the classifier is cached now) and plots them */
    assert_int_equal(run_gan(env, "--data", data, "--offline", "--batch-size", "32", "--epochs", "2", "--ema", "0.9",
                             "--score-count", "64", "--out", at("S"), NULL), 0);
    EXPECT("scores (64 samples, EMA generator");
    EXPECT("final scores");
    /* the final scores are those of `score` on the final checkpoint */
    char line[64];
    static char train_out[sizeof gan_out];
    memcpy(train_out, gan_out, sizeof gan_out);
    snprintf(line, sizeof line, "FID %.2f ", json_fid(env, "--checkpoint", at("S/checkpoint.safetensors"), "64"));
    if (!strstr(train_out, line)) fail_msg("expected \"%s\" in:\n%s", line, train_out);
    size_t n;
    char *csv = (char *)slurp(at("S/metrics.csv"), &n), *svg = (char *)slurp(at("S/losses.svg"), &n);
    assert_non_null(strstr(csv, ",fid,precision,recall,inception_score,kl_uniform,lab_loss,train_error,test_error\n"));
    int scored = 0;
    for (char *l = strchr(csv, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        const char *end = strchr(l + 1, '\n'), *fid = NULL;
        int commas = 0;
        for (const char *c = l + 1; c < end; c++)
            if (*c == ',' && ++commas == 10) fid = c + 1;
        assert_int_equal(commas, 17);
        scored += *fid != ',';
    }
    assert_int_equal(scored, 1); /* --score-every 10 (the default): the end of the run only */
    assert_non_null(strstr(svg, "FID (lower is better)"));
    free(csv);
    free(svg);
    /* the EMA is kept in the checkpoint; a contradicting --ema is refused on resume */
    assert_int_equal(run_gan(env, "--data", data, "--offline", "--epochs", "3", "--ema", "0.5", "--resume",
                             at("S/checkpoint.safetensors"), NULL), 1);
    EXPECT("--ema conflicts with the checkpoint (ema_decay = 0.9)");
    assert_int_equal(run_gan(env, "--data", data, "--offline", "--quiet", "--epochs", "3", "--score-every", "1",
                             "--resume", at("S/checkpoint.safetensors"), NULL), 0);
    csv = (char *)slurp(at("S/metrics.csv"), &n);
    scored = 0;
    for (char *l = strchr(csv, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        const char *fid = l + 1;
        for (int k = 0; k < 10; k++) fid = strchr(fid, ',') + 1; /* the 11th column */
        scored += *fid != ',';
    }
    assert_int_equal(scored, 2); /* the first run's, and epoch 3's */
    free(csv);
    assert_int_equal(run_gan(env, "generate", "--checkpoint", at("S/checkpoint.safetensors"), "--count", "4",
                             "--out", at("s.png"), NULL), 0);
}

/* `gan-cl classify` with the small data set's classifier (trained by test_score into the same
 * cache, or here): an IDX file with its labels, pictures among broken files, the refusals. */
static void test_classify(void **state) {
    (void)state;
    char cache[1100], *env[] = {cache, NULL}, images[1100], labels[1100];
    snprintf(cache, sizeof cache, "XDG_CACHE_HOME=%s", at("cache"));
    snprintf(images, sizeof images, "%s/t10k-images-idx3-ubyte.gz", data);
    snprintf(labels, sizeof labels, "%s/t10k-labels-idx1-ubyte.gz", data);
    assert_int_equal(run_gan(env, "classify", "--data", data, "--offline", "--images", images, "--labels", labels,
                             NULL), 0);
    int lines = 0, right = 0;
    for (const char *l = gan_out; (l = strstr(l, "t10k-images-idx3-ubyte.gz #")); l++, lines++)
        right += !strncmp(strchr(l, ')') + 1, "  right", 7);
    assert_int_equal(lines, 256); /* one line per image */
    char want[64];
    snprintf(want, sizeof want, "accuracy: %.2f%% (%d of 256 images)", 100.0 * right / 256, right);
    EXPECT(want);
    EXPECT("confusion matrix (rows: true class, columns: predicted class)");
    /* a picture, a damaged picture, a text file and a missing one: the picture is named, each
     * other gets its message, and the exit status says some failed */
    static uint8_t page[200 * 160];
    memset(page, 250, sizeof page);
    for (int y = 30; y < 140; y++)
        for (int x = 70; x < 84; x++) page[y * 200 + x] = 20; /* a "1" */
    size_t n;
    uint8_t *png = png_encode_format(page, 200, 160, PNG_FORMAT_GRAY, &n);
    char one[1100], half[1100], text[1100];
    snprintf(one, sizeof one, "%s", at("one.png"));
    snprintf(half, sizeof half, "%s", at("half.png"));
    snprintf(text, sizeof text, "%s", at("notes.txt"));
    write_bytes(one, png, n);
    write_bytes(half, png, n / 2);
    write_bytes(text, "not a picture\n", 14);
    free(png);
    assert_int_equal(run_gan(env, "classify", "--data", data, "--offline", half, one, text, at("nowhere.png"), NULL), 1);
    snprintf(want, sizeof want, "%s: ", one);
    EXPECT(want);
    EXPECT("half.png: damaged PNG");
    EXPECT("notes.txt: not a PNG picture, nor an IDX file");
    EXPECT("nowhere.png: cannot open");
    assert_int_equal(run_gan(env, "classify", "--data", data, "--offline", one, "--labels", labels, NULL), 1);
    EXPECT("labels, 256 items for 1 images");
    assert_int_equal(run_gan(env, "classify", "--data", data, "--offline", half, one, "--labels", labels, NULL), 1);
    EXPECT("could not be read, so the labels do not line up");
    assert_int_equal(run_gan(env, "classify", "--data", data, "--offline", half, NULL), 1);
    EXPECT("no image to classify");
    assert_int_equal(run_gan(env, "classify", "--data", data, "--offline", "--images", labels, NULL), 1);
    EXPECT("an IDX file, but not of 28 x 28 images (labels");
    assert_int_equal(run_gan(env, "classify", "--data", data, "--offline", NULL), 2);
    EXPECT("classify needs images");
    assert_int_equal(run_gan(env, "--data", data, one, NULL), 2);
    EXPECT("unexpected argument");
}

/* The semi-supervised GAN end to end (small widths): trains with 100 labels, logs and prints its
 * test error each epoch, resumes bit-identically, names digits with its D (classify
 * --checkpoint), generates, and refuses contradicting or meaningless flags. */
static void test_ssgan(void **state) {
    (void)state;
#define SS(...) run_gan(NULL, "--data", data, "--offline", "--seed", "5", "--model", "ssgan", "--batch-size", "16", \
                        "--g-layers", "24,24", "--d-layers", "40,24,16", "--score-every", "0", __VA_ARGS__, NULL)
    assert_int_equal(SS("--epochs", "2", "--out", at("S1")), 0);
    EXPECT("training the semi-supervised GAN (100 labels)");
    EXPECT("test error ");
    EXPECT("of 256 test images named wrong");
    size_t n;
    char *csv = (char *)slurp(at("S1/metrics.csv"), &n);
    assert_non_null(strstr(csv, ",lab_loss,train_error,test_error\n"));
    int tested = 0; /* the rows at an epoch's end carry a test error in [0, 1] */
    for (char *l = strchr(csv, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)strcspn(l + 1, "\n"), l + 1);
        const char *c = strrchr(line, ',');
        if (c && c[1]) {
            const double e = atof(c + 1);
            assert_true(e >= 0 && e <= 1);
            tested++;
        }
    }
    assert_int_equal(tested, 2);
    free(csv);
    char *cfg = (char *)slurp(at("S1/config.json"), &n);
    assert_non_null(strstr(cfg, "\"model\": \"ssgan\""));
    assert_non_null(strstr(cfg, "\"labels\": \"100\""));
    free(cfg);
    /* stopped after one epoch, resumed to two: the same checkpoint as two at once (the
     * labelled subset and every order come from the seed; the learning rate's decay from
     * --epochs) */
    assert_int_equal(SS("--epochs", "2", "--steps", "16", "--out", at("S2")), 0);
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--quiet", "--score-every", "0", "--epochs", "2",
                             "--resume", at("S2/checkpoint.safetensors"), NULL), 0);
    assert_same_file(at("S1/checkpoint.safetensors"), at("S2/checkpoint.safetensors"));
    /* its D names the digits of an IDX file; with the labels, the accuracy and confusion */
    char images[1100], labels[1100], ck[1100];
    snprintf(images, sizeof images, "%s/t10k-images-idx3-ubyte.gz", data);
    snprintf(labels, sizeof labels, "%s/t10k-labels-idx1-ubyte.gz", data);
    snprintf(ck, sizeof ck, "%s", at("S1/checkpoint.safetensors"));
    assert_int_equal(run_gan(NULL, "classify", "--checkpoint", ck, "--images", images, "--labels", labels, NULL), 0);
    EXPECT("t10k-images-idx3-ubyte.gz #255: ");
    EXPECT("accuracy: ");
    EXPECT("confusion matrix");
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", ck, "--count", "4", "--out", at("ss.png"), NULL), 0);
    int w, h;
    png_size(at("ss.png"), &w, &h);
    assert_int_equal(w, 2 * 28 + 3 * 2);
    /* refusals */
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--labels", "200", "--resume", ck, NULL), 1);
    EXPECT("--labels/--unlabeled-weight conflict with the checkpoint");
    assert_int_equal(SS("--labels", "15", "--steps", "1", "--out", at("S3")), 2);
    EXPECT("must be a multiple of 10");
    assert_int_equal(SS("--labels", "300", "--steps", "1", "--out", at("S3")), 1);
    EXPECT("fewer than the 30 per class");
    assert_int_equal(SS("--loss", "hinge", "--steps", "1", "--out", at("S3")), 2);
    EXPECT("has its own losses");
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--labels", "100", "--steps", "1", "--out", at("S3"),
                             NULL), 2);
    EXPECT("apply only to --model ssgan");
    snprintf(ck, sizeof ck, "%s", at("C/checkpoint.safetensors")); /* an MLP GAN's */
    assert_int_equal(run_gan(NULL, "classify", "--checkpoint", ck, "--images", images, NULL), 1);
    EXPECT("names no digits");
    /* D alone on the labels (--unlabeled-weight 0): no G step, no G loss */
    assert_int_equal(SS("--unlabeled-weight", "0", "--epochs", "1", "--out", at("S4")), 0);
    EXPECT("(D on the labels alone)");
    EXPECT("test error ");
#undef SS
}

static void test_ctrl_c(void **state) {
    (void)state;
    char ckpt[1024];
    snprintf(ckpt, sizeof ckpt, "%s", at("INT/checkpoint.safetensors"));
    char *argv[] = {getenv("GANCL_BIN"), "--data", data, "--offline", "--batch-size", "32",
                    "--epochs", "100000", "--out", at("INT"), NULL};
    int fd;
    pid_t pid = spawn(argv, NULL, &fd);
    /* a directory of its own: config.json appears just before training (and SIGINT turns
     * from "exit now" into "stop after this step") */
    for (int i = 0; i < 600 && !gancl_file_exists(at("INT/config.json")); i++) sleep_ms(100);
    assert_true(gancl_file_exists(at("INT/config.json")));
    sleep_ms(1500); /* some steps, maybe an epoch's checkpoint in flight */
    kill(pid, SIGINT);
    assert_int_equal(finish(pid, fd, gan_out, sizeof gan_out), 130);
    EXPECT("stopped by signal");
    EXPECT("checkpoint saved");
    assert_true(gancl_file_exists(ckpt));
    /* samples, csv, svg, json, checkpoint (and progress.png after an epoch): no temp files */
    assert_int_equal(count_entries(at("INT")), 5 + gancl_file_exists(at("INT/progress.png")));
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--quiet", "--epochs", "100000",
                         "--steps", "1", "--resume", ckpt, NULL), 0); /* nothing to do: loads fine */
    EXPECT("nothing to do");
}

/* 16-bin histogram of pixel values (as fractions) and the mean, over n images. */
static void histogram(const uint8_t *px, size_t n, double h[16], double *mean) {
    memset(h, 0, 16 * sizeof *h);
    double s = 0;
    for (size_t i = 0; i < n * 784; i++) {
        h[px[i] / 16] += 1.0 / (n * 784);
        s += px[i];
    }
    *mean = s / (n * 784);
}

static double l1(const double *a, const double *b) {
    double s = 0;
    for (int i = 0; i < 16; i++) s += fabs(a[i] - b[i]);
    return s;
}

static void test_real_mnist(void **state) {
    (void)state;
    const char *mnist = getenv("GANCL_MNIST_DIR");
    if (!mnist || !mnist[0]) {
        print_message("GANCL_MNIST_DIR is not set: skipping training on the real MNIST\n");
        skip();
    }
    char *m = (char *)mnist;
    /* G itself (--ema 0): after 300 iterations the EMA generator still lags G (README, The EMA
     * generator), and this tests training, not the average */
    assert_int_equal(run_gan(NULL, "--data", m, "--offline", "--quiet", "--ema", "0", "--steps", "1", "--out", at("M0"), NULL), 0);
    assert_int_equal(run_gan(NULL, "--data", m, "--offline", "--quiet", "--ema", "0", "--steps", "300", "--out", at("M"), NULL), 0);
    /* the losses: finite; D tells real from fake early on */
    size_t n;
    char *csv = (char *)slurp(at("M/metrics.csv"), &n);
    int rows = 0;
    char *save, *line = strtok_r(csv, "\n", &save);
    for (line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save), rows++) {
        int e;
        long s;
        double dl, gl, dr, df;
        assert_int_equal(sscanf(line, "%d,%ld,%lf,%lf,%lf,%lf", &e, &s, &dl, &gl, &dr, &df), 6);
        assert_true(isfinite(dl) && isfinite(gl) && dl > 0 && gl > 0);
        if (rows == 0) assert_true(dr > df);
    }
    assert_int_equal(rows, 6);
    free(csv);
    /* generated images move toward the data: mean and histogram closer than at step 1 */
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", at("M0/checkpoint.safetensors"), "--count", "500", "--format", "idx", "--out", at("m0.idx"), NULL), 0);
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", at("M/checkpoint.safetensors"), "--count", "500", "--format", "idx", "--out", at("m.idx"), NULL), 0);
    gancl_dataset ds;
    gancl_idx g0, g1;
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_dataset_load(mnist, 0, &ds, err), 0);
    assert_int_equal(gancl_idx_load(at("m0.idx"), &g0, err), 0);
    assert_int_equal(gancl_idx_load(at("m.idx"), &g1, err), 0);
    double hd[16], h0[16], h1[16], md, m0, m1;
    histogram(ds.images.data, 2000, hd, &md);
    histogram(g0.data, 500, h0, &m0);
    histogram(g1.data, 500, h1, &m1);
    print_message("pixel mean: data %.1f, step 1 %.1f, step 300 %.1f; histogram L1 to data: %.3f -> %.3f\n",
                  md, m0, m1, l1(h0, hd), l1(h1, hd));
    assert_true(fabs(m1 - md) < 0.75 * fabs(m0 - md));
    assert_true(l1(h1, hd) < 0.95 * l1(h0, hd));
    gancl_dataset_free(&ds);
    gancl_idx_free(&g0);
    gancl_idx_free(&g1);
}

static int setup(void **state) {
    (void)state;
    make_temp_dir(root, sizeof root);
    snprintf(data, sizeof data, "%s/data", root);
    assert_int_equal(mkdir(data, 0755), 0);
    write_bar_dataset(data, 256);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    remove_tree(root);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism_and_resume),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_dcgan),
        cmocka_unit_test(test_conditional),
        cmocka_unit_test(test_damaged_checkpoints),
        cmocka_unit_test(test_divergence_stops),
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_ssgan),
        cmocka_unit_test(test_ctrl_c),
        cmocka_unit_test(test_real_mnist),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
