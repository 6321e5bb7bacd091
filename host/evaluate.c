/* evaluate.c: the scorer (evaluate.h) and `gan-cl score`: what to score (a checkpoint's
 * generator or an IDX file), the floor from real training images, and the report as a table
 * or JSON. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/evaluate.h"
#include "gancl/checkpoint.h"
#include "gancl/image.h"
#include "gancl/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int gancl_scorer_open(gancl_scorer *s, const gancl_runtime *rt, const gancl_dataset *train, const char *dir,
                      int only_cached, int quiet, char *err) {
    memset(s, 0, sizeof *s);
    if (only_cached && !gancl_classifier_cached(train)) return 1;
    if (gancl_dataset_load(dir, 0, &s->test, err)) return -1;
    int trained;
    if (gancl_classifier_open(&s->c, rt, train, &s->test, quiet, &trained, err)) {
        gancl_dataset_free(&s->test);
        return -1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gancl_score_ref_make(&s->ref, &s->c, s->test.images.data, (int)s->test.images.count);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s->ref_s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    return 0;
}

void gancl_scorer_free(gancl_scorer *s) {
    gancl_score_ref_free(&s->ref);
    gancl_classifier_free(&s->c);
    gancl_dataset_free(&s->test);
}

static uint8_t *to_pixels(const float *img, size_t n) {
    uint8_t *px = malloc(n ? n : 1);
    if (!px) gancl_die("out of host memory");
    for (size_t i = 0; i < n; i++) px[i] = gancl_pixel(img[i]);
    return px;
}

void gancl_scorer_score_gan(const gancl_scorer *s, gancl_gan *gan, int count, uint64_t seed, gancl_scores *out) {
    const size_t n = (size_t)count * gan->arch.image;
    float *img = malloc(n * sizeof *img);
    if (!img) gancl_die("out of host memory for %d images", count);
    int *labels = NULL; /* a conditional model is asked for every class equally often */
    if (gan->arch.classes) {
        labels = malloc((size_t)count * sizeof *labels);
        if (!labels) gancl_die("out of host memory");
        for (int i = 0; i < count; i++) labels[i] = i % gan->arch.classes;
    }
    gancl_gan_sample_images(gan, count, seed, labels, img);
    uint8_t *px = to_pixels(img, n); /* scored as they would be saved */
    free(img);
    gancl_score_images(&s->ref, px, labels, count, out);
    free(px);
    free(labels);
}

int gancl_scores_classes_present(const gancl_scores *s) {
    int n = 0;
    for (int k = 0; k < GANCL_CLASSES; k++) n += s->hist[k] >= 0.01;
    return n;
}

/* The lowest per-class accuracy of a labelled score. */
static double worst_class(const gancl_scores *s) {
    double w = 1;
    for (int k = 0; k < GANCL_CLASSES; k++)
        if (s->class_accuracy[k] >= 0 && s->class_accuracy[k] < w) w = s->class_accuracy[k];
    return w;
}

void gancl_scores_line(const gancl_scores *s, char *out, size_t len) {
    int n = snprintf(out, len, "FID %.2f  precision %.3f  recall %.3f  IS %.2f  classes %d/10", s->fid,
                     s->precision, s->recall, s->is, gancl_scores_classes_present(s));
    if (s->labelled && n > 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, "  drawn as asked %.2f%% (worst digit %.1f%%)", 100 * s->accuracy,
                 100 * worst_class(s));
}

int gancl_scores_collapse(const gancl_scores *s, char *out, size_t len) {
    int rare = 0, common = 0;
    for (int k = 1; k < GANCL_CLASSES; k++) {
        if (s->hist[k] < s->hist[rare]) rare = k;
        if (s->hist[k] > s->hist[common]) common = k;
    }
    if (s->hist[rare] >= 0.01 && s->kl_uniform <= 0.5) return 0;
    if (s->hist[common] >= 0.3) /* the digit that takes over says more than a missing one */
        snprintf(out, len, "the samples are collapsing: digit %d is %.1f%% of them, digit %d %.1f%% (KL to uniform "
                 "%.2f)", common, 100 * s->hist[common], rare, 100 * s->hist[rare], s->kl_uniform);
    else
        snprintf(out, len, "the samples are collapsing: digit %d is %.1f%% of them (KL to uniform %.2f)", rare,
                 100 * s->hist[rare], s->kl_uniform);
    return 1;
}

/* ---- gan-cl score ---- */

static void json_scores(FILE *f, const char *name, const gancl_scores *s, int last) {
    fprintf(f, "  \"%s\": {\"count\": %d, \"fid\": %.6f, \"inception_score\": %.6f, \"precision\": %.6f, "
               "\"recall\": %.6f, \"kl_uniform\": %.6f, \"classes_present\": %d, \"class_histogram\": [",
            name, s->n, s->fid, s->is, s->precision, s->recall, s->kl_uniform, gancl_scores_classes_present(s));
    for (int k = 0; k < GANCL_CLASSES; k++) fprintf(f, "%.6f%s", s->hist[k], k + 1 < GANCL_CLASSES ? ", " : "");
    fprintf(f, "]");
    if (s->labelled) {
        fprintf(f, ", \"accuracy\": %.6f, \"class_accuracy\": [", s->accuracy);
        for (int k = 0; k < GANCL_CLASSES; k++)
            fprintf(f, "%.6f%s", s->class_accuracy[k], k + 1 < GANCL_CLASSES ? ", " : "");
        fprintf(f, "]");
    }
    fprintf(f, "}%s\n", last ? "" : ",");
}

/* A row of per-class percentages and their overall value. */
static void print_accuracy_row(const char *label, const double *per_class, double all) {
    printf("  %-10s", label);
    for (int k = 0; k < GANCL_CLASSES; k++) {
        if (per_class[k] < 0) printf("      -");
        else printf(" %5.1f%%", 100 * per_class[k]);
    }
    printf("  %5.2f%%\n", 100 * all);
}

/* The classifier's own accuracy on the test set, overall and per class: the ceiling of a
 * conditional model's. */
static double test_accuracy(gancl_scorer *sc, double per_class[GANCL_CLASSES]) {
    long conf[GANCL_CLASSES][GANCL_CLASSES];
    const double all = gancl_classifier_accuracy(&sc->c, &sc->test, conf);
    for (int k = 0; k < GANCL_CLASSES; k++) {
        long n = 0;
        for (int j = 0; j < GANCL_CLASSES; j++) n += conf[k][j];
        per_class[k] = n ? (double)conf[k][k] / n : -1;
    }
    return all;
}

static void print_histogram(const char *label, const gancl_scores *s) {
    printf("  %-10s", label);
    for (int k = 0; k < GANCL_CLASSES; k++) printf(" %d:%5.1f%%", k, 100 * s->hist[k]);
    printf("\n");
}

int gancl_score_command(const gancl_runtime *rt, const char *dir, const char *checkpoint, const char *idx_path,
                        int count, int count_given, uint64_t seed, int json, int quiet) {
    char err[GANCL_ERR_LEN];
    gancl_idx idx = {0};
    gancl_gan gan;
    int have_gan = 0, rc = 1;
    /* what to score, checked before the (possibly long) classifier work */
    if (idx_path) {
        if (gancl_idx_load(idx_path, &idx, err)) {
            fprintf(stderr, "gan-cl: error: %s\n", err);
            return 1;
        }
        if (idx.magic != GANCL_IDX_IMAGES || idx.rows != 28 || idx.cols != 28) {
            fprintf(stderr, "gan-cl: error: %s: not 28x28 uint8 images (%s, %ux%u)\n"
                    "  hint: gan-cl generate --format idx writes such a file\n", idx_path,
                    idx.magic == GANCL_IDX_IMAGES ? "images" : "labels", idx.rows, idx.cols);
            goto out;
        }
        if (count_given && (uint32_t)count > idx.count) {
            fprintf(stderr, "gan-cl: error: --count %d: %s holds only %u images\n", count, idx_path, idx.count);
            goto out;
        }
        if (!count_given && (uint32_t)count > idx.count) count = (int)idx.count;
        if (count < 2) {
            fprintf(stderr, "gan-cl: error: %s: %u image(s): scores need at least 2\n", idx_path, idx.count);
            goto out;
        }
    } else {
        if (gancl_checkpoint_open_generator(checkpoint, &gan, rt, GANCL_SAMPLE_CHUNK, err)) {
            fprintf(stderr, "gan-cl: error: %s\n  hint: --checkpoint takes a checkpoint.safetensors written by "
                    "training\n", err);
            return 1;
        }
        have_gan = 1;
    }
    gancl_dataset train;
    if (gancl_dataset_load(dir, 1, &train, err)) {
        fprintf(stderr, "gan-cl: error: %s\n", err);
        goto out;
    }
    if ((uint32_t)count > train.images.count) {
        fprintf(stderr, "gan-cl: error: --count %d: the floor needs as many real training images, there are %u\n",
                count, train.images.count);
        gancl_dataset_free(&train);
        goto out;
    }
    gancl_scorer sc;
    if (gancl_scorer_open(&sc, rt, &train, dir, 0, quiet || json, err)) {
        fprintf(stderr, "gan-cl: error: %s\n", err);
        gancl_dataset_free(&train);
        goto out;
    }
    gancl_scores fake, real;
    if (have_gan) gancl_scorer_score_gan(&sc, &gan, count, seed, &fake);
    else gancl_score_images(&sc.ref, idx.data, NULL, count, &fake);
    gancl_score_images(&sc.ref, train.images.data, NULL, count, &real);
    const char *what = have_gan ? checkpoint : idx_path;
    double ceiling[GANCL_CLASSES], ceiling_all = 0;
    if (fake.labelled) ceiling_all = test_accuracy(&sc, ceiling);
    if (json) {
        printf("{\n  \"source\": ");
        gancl_json_write_string(stdout, what);
        printf(",\n  \"generator\": \"%s\",\n  \"reference\": {\"count\": %d, \"split\": \"test\"},\n",
               have_gan ? (gan.ema_decay ? "ema" : "g") : "none", sc.ref.n);
        json_scores(stdout, "samples", &fake, 0);
        json_scores(stdout, "real", &real, !fake.labelled);
        if (fake.labelled) {
            printf("  \"classifier_test_accuracy\": {\"accuracy\": %.6f, \"class_accuracy\": [", ceiling_all);
            for (int k = 0; k < GANCL_CLASSES; k++)
                printf("%.6f%s", ceiling[k], k + 1 < GANCL_CLASSES ? ", " : "");
            printf("]}\n");
        }
        printf("}\n");
    } else {
        printf("%d images from %s%s against the %d test images, in the features of gan-cl's classifier\n", count,
               what, have_gan ? (gan.ema_decay ? " (the EMA generator)" : " (the generator)") : "", sc.ref.n);
        printf("%-24s %10s %10s\n", "", "samples", "real");
        printf("%-24s %10.2f %10.2f\n", "FID (lower is better)", fake.fid, real.fid);
        printf("%-24s %10.3f %10.3f\n", "precision", fake.precision, real.precision);
        printf("%-24s %10.3f %10.3f\n", "recall", fake.recall, real.recall);
        printf("%-24s %10.2f %10.2f\n", "IS-like (max 10)", fake.is, real.is);
        printf("%-24s %10.3f %10.3f\n", "KL(classes || uniform)", fake.kl_uniform, real.kl_uniform);
        printf("%-24s %7d/10 %7d/10\n", "classes with >= 1%", gancl_scores_classes_present(&fake),
               gancl_scores_classes_present(&real));
        printf("class histogram:\n");
        print_histogram("samples", &fake);
        print_histogram("real", &real);
        printf("real: the first %d training images, scored the same way (the floor: the best a sample of\n"
               "this size can do)\n", count);
        if (fake.labelled) {
            printf("digits drawn as asked (the share the classifier names as the digit asked for; %d of each):\n"
                   "  %-10s", count / GANCL_CLASSES, "digit");
            for (int k = 0; k < GANCL_CLASSES; k++) printf(" %6d", k);
            printf("     all\n");
            print_accuracy_row("samples", fake.class_accuracy, fake.accuracy);
            print_accuracy_row("ceiling", ceiling, ceiling_all);
            printf("ceiling: the classifier's own accuracy on the %u real test digits\n", sc.test.images.count);
        }
        char warn[256];
        if (gancl_scores_collapse(&fake, warn, sizeof warn)) printf("warning: %s\n", warn);
    }
    rc = 0;
    gancl_scorer_free(&sc);
    gancl_dataset_free(&train);
out:
    if (have_gan) gancl_gan_free(&gan);
    gancl_idx_free(&idx);
    return rc;
}
