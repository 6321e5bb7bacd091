/* classifier.c: gan-cl's digit classifier (see classifier.h): training it on the device,
 * caching it by the training set's SHA-256, predicting, and `gan-cl classifier`. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/classifier.h"
#include "gancl/checkpoint.h"
#include "gancl/fsutil.h"
#include "gancl/selftest.h"
#include "gancl/sha256.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH GANCL_CLASSIFIER_BATCH
#define EPOCHS 5
#define PIXELS 784
/* Adam's learning rate per epoch: 1e-3, then lower for the last two */
static const float LR[EPOCHS] = {1e-3f, 1e-3f, 1e-3f, 3e-4f, 1e-4f};
static const gancl_ptr NONE = {NULL, 0};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static gancl_ptr io(const gancl_classifier *c, size_t off) {
    gancl_ptr p = {c->io, off};
    return p;
}

/* The network and its buffers, for passes of BATCH rows. */
static int setup(gancl_classifier *c, const gancl_runtime *rt, char *err) {
    memset(c, 0, sizeof *c);
    c->rt = rt;
    c->batch = BATCH;
    gancl_layer l[GANCL_MAX_LAYERS];
    const gancl_shape in = {1, 28, 28};
    if (gancl_net_build(&c->net, "classifier", in, l, gancl_classifier_table(l), err)) return -1;
    const gancl_op *last = &c->net.op[c->net.n_ops - 1];
    if (last->in_f != GANCL_FEATURES || last->x_in == 0) gancl_die("the classifier's feature layer is not %d wide", GANCL_FEATURES);
    gancl_net_alloc(&c->net, rt, BATCH, BATCH, 0);
    const size_t scratch = c->net.col_size + c->net.tmp_size;
    c->scratch = gancl_buffer(rt, (scratch + 1) * sizeof(float));
    gancl_ptr col = {c->scratch, 0}, tmp = {c->scratch, c->net.col_size};
    gancl_net_bind_scratch(&c->net, col, tmp);
    c->x = 0;
    c->logit = (size_t)BATCH * PIXELS;
    c->dlogit = c->logit + (size_t)BATCH * GANCL_CLASSES;
    c->io = gancl_buffer(rt, (c->dlogit + (size_t)BATCH * GANCL_CLASSES) * sizeof(float));
    c->acc = gancl_buffer(rt, 2 * sizeof(float));
    return 0;
}

void gancl_classifier_free(gancl_classifier *c) {
    gancl_net_free(&c->net);
    cl_mem mems[] = {c->scratch, c->io, c->labels, c->acc, c->images, c->perm};
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (mems[i]) clReleaseMemObject(mems[i]);
    memset(c, 0, sizeof *c);
}

/* Rows [0, n) of the input through the network (evaluation mode): class probabilities into
 * probs [n, 10] and, unless NULL, the feature layer into feat [n, GANCL_FEATURES]. */
static void pass(gancl_classifier *c, int n, float *feat, float *probs) {
    gancl_net_forward(&c->net, io(c, c->logit), io(c, c->x), 0, n, 0);
    if (feat) {
        const gancl_net *net = &c->net;
        const int s = net->op[net->n_ops - 1].x_in; /* the last Linear's input */
        gancl_read(c->rt, net->acts, net->x_off[s] * sizeof(float), (size_t)n * GANCL_FEATURES * sizeof(float), feat);
    }
    if (!probs) return;
    float logits[BATCH * GANCL_CLASSES];
    gancl_read(c->rt, c->io, c->logit * sizeof(float), (size_t)n * GANCL_CLASSES * sizeof(float), logits);
    for (int b = 0; b < n; b++) {
        const float *l = logits + b * GANCL_CLASSES;
        double m = l[0], s = 0;
        for (int k = 1; k < GANCL_CLASSES; k++) m = fmax(m, l[k]);
        for (int k = 0; k < GANCL_CLASSES; k++) s += exp(l[k] - m);
        for (int k = 0; k < GANCL_CLASSES; k++) probs[b * GANCL_CLASSES + k] = (float)(exp(l[k] - m) / s);
    }
}

void gancl_classifier_features(gancl_classifier *c, const uint8_t *images, int n, float *feat, float *probs) {
    float *x = malloc((size_t)BATCH * PIXELS * sizeof *x);
    if (!x) gancl_die("out of host memory");
    for (int done = 0; done < n; done += BATCH) {
        const int m = n - done < BATCH ? n - done : BATCH;
        for (size_t i = 0; i < (size_t)m * PIXELS; i++) x[i] = images[(size_t)done * PIXELS + i] / 127.5f - 1.0f;
        gancl_write(c->rt, c->io, c->x * sizeof(float), (size_t)m * PIXELS * sizeof *x, x);
        pass(c, m, feat ? feat + (size_t)done * GANCL_FEATURES : NULL,
             probs ? probs + (size_t)done * GANCL_CLASSES : NULL);
    }
    free(x);
}

void gancl_classifier_predict(gancl_classifier *c, const uint8_t *images, int n, float *probs) {
    gancl_classifier_features(c, images, n, NULL, probs);
}

int gancl_classifier_argmax(const float *p) {
    int best = 0;
    for (int k = 1; k < GANCL_CLASSES; k++)
        if (p[k] > p[best]) best = k;
    return best;
}

double gancl_classifier_accuracy(gancl_classifier *c, const gancl_dataset *ds,
                                 long confusion[GANCL_CLASSES][GANCL_CLASSES]) {
    const int n = (int)ds->images.count;
    float *probs = malloc((size_t)n * GANCL_CLASSES * sizeof *probs);
    if (!probs) gancl_die("out of host memory");
    gancl_classifier_predict(c, ds->images.data, n, probs);
    long right = 0;
    if (confusion) memset(confusion, 0, sizeof(long) * GANCL_CLASSES * GANCL_CLASSES);
    for (int i = 0; i < n; i++) {
        const int p = gancl_classifier_argmax(probs + (size_t)i * GANCL_CLASSES), y = ds->labels.data[i];
        right += p == y;
        if (confusion) confusion[y][p]++;
    }
    free(probs);
    return n ? (double)right / n : 0;
}

/* The training set's key: SHA-256 of its images, then its labels. */
static void dataset_key(const gancl_dataset *ds, char hex[65]) {
    gancl_sha256 s;
    uint8_t d[32];
    gancl_sha256_init(&s);
    gancl_sha256_update(&s, ds->images.data, (size_t)ds->images.count * PIXELS);
    gancl_sha256_update(&s, ds->labels.data, ds->labels.count);
    gancl_sha256_final(&s, d);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* One step on the batch at perm[it * BATCH ..] of the uploaded images and labels. */
static void train_iteration(gancl_classifier *c, int it, float lr) {
    const gancl_runtime *rt = c->rt;
    gancl_ptr labels = {c->labels, (size_t)it * BATCH};
    gather_images(rt, io(c, c->x), c->images, c->perm, (size_t)it * BATCH, BATCH, PIXELS, 0);
    gancl_net_forward(&c->net, io(c, c->logit), io(c, c->x), 0, BATCH, 1);
    softmax_xent(rt, io(c, c->dlogit), io(c, c->logit), labels, BATCH, GANCL_CLASSES, 1.0f / BATCH, c->acc, 0, 1);
    zero_grads(rt, c->net.buf, c->net.params.size);
    gancl_net_backward(&c->net, NONE, io(c, c->dlogit), io(c, c->logit), io(c, c->x), 0, BATCH, 1);
    adam_update(rt, c->net.buf, c->net.params.size, lr, 0.9f, 0.999f, 1e-8f, ++c->net.step);
}

void gancl_classifier_record_shapes(gancl_runtime *rt, struct gancl_shape_log *log) {
    gancl_classifier c;
    char err[GANCL_ERR_LEN];
    if (setup(&c, rt, err)) gancl_die("%s", err);
    c.images = gancl_buffer(rt, (size_t)BATCH * PIXELS);
    c.perm = gancl_buffer(rt, BATCH * sizeof(int));
    c.labels = gancl_buffer(rt, BATCH * sizeof(int));
    int zero[BATCH] = {0};
    uint8_t *img = calloc((size_t)BATCH * PIXELS, 1);
    if (!img) gancl_die("out of host memory");
    gancl_write(rt, c.images, 0, (size_t)BATCH * PIXELS, img);
    gancl_write(rt, c.perm, 0, sizeof zero, zero);
    gancl_write(rt, c.labels, 0, sizeof zero, zero);
    free(img);
    rt->shape_log = log; /* GEMMs are recorded, not run */
    train_iteration(&c, 0, 0.0f);
    CL_CHECK(clFinish(rt->queue));
    rt->shape_log = NULL;
    gancl_classifier_free(&c);
}

static void train(gancl_classifier *c, const gancl_dataset *tr, const gancl_dataset *test, int quiet) {
    const gancl_runtime *rt = c->rt;
    const int N = (int)tr->images.count, iters = N / BATCH;
    const size_t P = c->net.params.size;
    c->images = gancl_buffer(rt, (size_t)N * PIXELS);
    gancl_write(rt, c->images, 0, (size_t)N * PIXELS, tr->images.data);
    c->perm = gancl_buffer(rt, (size_t)N * sizeof(int));
    c->labels = gancl_buffer(rt, (size_t)N * sizeof(int));
    int *perm = malloc((size_t)N * sizeof *perm), *lab = malloc((size_t)N * sizeof *lab);
    float *buf = malloc((4 * P + 1) * sizeof *buf), *run = malloc((c->net.running.size + 1) * sizeof *run);
    if (!perm || !lab || !buf || !run) gancl_die("out of host memory");
    uint64_t rng = 0x5eed;
    gancl_net_init_host(&c->net, buf, run, &rng);
    gancl_write(rt, c->net.buf, 0, 4 * P * sizeof *buf, buf);
    if (c->net.running.size) gancl_write(rt, c->net.running_buf, 0, c->net.running.size * sizeof *run, run);
    const int tty = !quiet && isatty(STDOUT_FILENO);
    if (!quiet) {
        printf("training gan-cl's classifier on %s: %d images, %d epochs of %d iterations (once; cached)\n",
               rt->dev.name, N, EPOCHS, iters);
        fflush(stdout);
    }
    const double t0 = now_s();
    double last_draw = t0;
    for (int e = 0; e < EPOCHS; e++) {
        for (int i = 0; i < N; i++) perm[i] = i;
        for (int i = N - 1; i > 0; i--) { /* Fisher-Yates from (seed, epoch) */
            int j = (int)(gancl_splitmix64(&rng) % (uint64_t)(i + 1)), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        for (int i = 0; i < N; i++) lab[i] = tr->labels.data[perm[i]];
        gancl_write(rt, c->perm, 0, (size_t)N * sizeof *perm, perm);
        gancl_write(rt, c->labels, 0, (size_t)N * sizeof *lab, lab);
        float zero[2] = {0, 0};
        gancl_write(rt, c->acc, 0, sizeof zero, zero);
        for (int it = 0; it < iters; it++) {
            train_iteration(c, it, LR[e]);
            if (tty && now_s() - last_draw > 0.5) {
                CL_CHECK(clFinish(rt->queue));
                printf("\r\033[Kclassifier: epoch %d/%d  %d/%d  %.0f img/s", e + 1, EPOCHS, it + 1, iters,
                       ((double)e * iters + it + 1) * BATCH / (now_s() - t0));
                fflush(stdout);
                last_draw = now_s();
            }
        }
        float acc[2];
        gancl_read(rt, c->acc, 0, sizeof acc, acc);
        if (!quiet) {
            double test_acc = gancl_classifier_accuracy(c, test, NULL);
            printf("%sclassifier: epoch %d/%d  loss %.4f  train accuracy %.2f%%  test accuracy %.2f%%  %.0f s\n",
                   tty ? "\r\033[K" : "", e + 1, EPOCHS, acc[0] / iters, 100.0 * acc[1] / ((double)iters * BATCH),
                   100.0 * test_acc, now_s() - t0);
            fflush(stdout);
        }
    }
    free(perm);
    free(lab);
    free(buf);
    free(run);
}

static void fill_meta(const gancl_classifier *c, gancl_meta *m, int n_train, double test_acc) {
    memset(m, 0, sizeof *m);
    gancl_meta_set(m, "format", "gan-cl");
    gancl_meta_set(m, "format_version", "1");
    gancl_meta_set(m, "gan_cl_version", "%s", GANCL_VERSION);
    gancl_meta_set(m, "model", "classifier");
    gancl_meta_set(m, "train_sha256", "%s", c->key);
    gancl_meta_set(m, "train_images", "%d", n_train);
    gancl_meta_set(m, "epochs", "%d", EPOCHS);
    gancl_meta_set(m, "test_accuracy", "%.6f", test_acc);
}

/* The cached classifier, when the file is whole and of this training set. */
static int load(gancl_classifier *c, char *err) {
    gancl_checkpoint ck;
    if (gancl_checkpoint_open(c->path, &ck, err)) return -1;
    const char *model = gancl_meta_get(&ck.meta, "model"), *key = gancl_meta_get(&ck.meta, "train_sha256");
    int rc = -1;
    if (!model || strcmp(model, "classifier") || !key || strcmp(key, c->key)) {
        snprintf(err, GANCL_ERR_LEN, "%s: not the classifier of this training set", c->path);
    } else {
        gancl_net *nets[1] = {&c->net};
        rc = gancl_checkpoint_load_nets(&ck, nets, 1, 0, err);
    }
    gancl_checkpoint_close(&ck);
    return rc;
}

int gancl_classifier_cached(const gancl_dataset *tr) {
    char key[65], dir[4096], path[4200];
    if (gancl_cache_dir("classifiers", dir, sizeof dir)) return 0;
    dataset_key(tr, key);
    snprintf(path, sizeof path, "%s/%.16s.safetensors", dir, key);
    return gancl_file_exists(path);
}

int gancl_classifier_open(gancl_classifier *c, const gancl_runtime *rt, const gancl_dataset *tr,
                          const gancl_dataset *test, int quiet, int *trained, char *err) {
    if (setup(c, rt, err)) return -1;
    dataset_key(tr, c->key);
    char dir[4096], why[GANCL_ERR_LEN];
    const int have_dir = gancl_cache_dir("classifiers", dir, sizeof dir) == 0;
    if (have_dir) {
        snprintf(c->path, sizeof c->path, "%s/%.16s.safetensors", dir, c->key); /* as in _cached */
        if (gancl_file_exists(c->path)) {
            if (load(c, why) == 0) {
                *trained = 0;
                return 0;
            }
            fprintf(stderr, "gan-cl: warning: %s\n  the classifier is trained again\n", why);
            remove(c->path);
        }
    }
    train(c, tr, test, quiet);
    *trained = 1;
    if (!have_dir) {
        fprintf(stderr, "gan-cl: warning: no cache directory ($XDG_CACHE_HOME or $HOME): the classifier is not kept\n");
        return 0;
    }
    gancl_meta m;
    fill_meta(c, &m, (int)tr->images.count, gancl_classifier_accuracy(c, test, NULL));
    gancl_net *nets[1] = {&c->net};
    if (gancl_mkdirs(dir, why) || gancl_checkpoint_save_nets(c->path, nets, 1, 0, &m, why))
        fprintf(stderr, "gan-cl: warning: the classifier is not kept: %s\n", why);
    return 0;
}

int gancl_classifier_open_dir(gancl_classifier *c, const gancl_runtime *rt, const char *dir, gancl_dataset *tr,
                              gancl_dataset *test, int quiet, int *trained, char *err) {
    memset(tr, 0, sizeof *tr);
    memset(test, 0, sizeof *test);
    if (gancl_dataset_load(dir, 1, tr, err)) return -1;
    if (gancl_dataset_load(dir, 0, test, err) || gancl_classifier_open(c, rt, tr, test, quiet, trained, err)) {
        gancl_dataset_free(tr);
        gancl_dataset_free(test);
        return -1;
    }
    return 0;
}

void gancl_confusion_print(FILE *out, long confusion[GANCL_CLASSES][GANCL_CLASSES]) {
    fprintf(out, "confusion matrix (rows: true class, columns: predicted class):\n      ");
    for (int k = 0; k < GANCL_CLASSES; k++) fprintf(out, "%6d", k);
    fprintf(out, "\n");
    for (int y = 0; y < GANCL_CLASSES; y++) {
        fprintf(out, "  %d   ", y);
        for (int k = 0; k < GANCL_CLASSES; k++) fprintf(out, "%6ld", confusion[y][k]);
        fprintf(out, "\n");
    }
}

int gancl_classifier_report(const gancl_runtime *rt, const char *dir, int quiet) {
    char err[GANCL_ERR_LEN];
    gancl_dataset tr, test;
    gancl_classifier c;
    int trained;
    const double t0 = now_s();
    if (gancl_classifier_open_dir(&c, rt, dir, &tr, &test, quiet, &trained, err)) {
        fprintf(stderr, "gan-cl: error: %s\n", err);
        return 1;
    }
    long conf[GANCL_CLASSES][GANCL_CLASSES];
    double acc = gancl_classifier_accuracy(&c, &test, conf);
    printf("classifier: %s (%s)\n", c.path[0] ? c.path : "not kept", trained ? "trained now" : "from the cache");
    if (trained) printf("training took %.0f s\n", now_s() - t0);
    printf("test accuracy: %.2f%% of %u test images\n", 100 * acc, test.images.count);
    gancl_confusion_print(stdout, conf);
    gancl_classifier_free(&c);
    gancl_dataset_free(&tr);
    gancl_dataset_free(&test);
    return 0;
}
