/* classify.c: `gan-cl classify` (classify.h): reads the user's files (PNG pictures through
 * digit.c, IDX image files), classifies every image with gan-cl's classifier or a
 * semi-supervised GAN's discriminator and prints the digit and its probability, then with a
 * labels file the accuracy and confusion matrix. */
#include "gancl/classify.h"
#include "gancl/checkpoint.h"
#include "gancl/classifier.h"
#include "gancl/digit.h"
#include "gancl/fsutil.h"
#include "gancl/ssgan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The images read so far: pixels [n, 784], and for each its file and index in that file
 * (-1: a PNG, one image). */
typedef struct {
    uint8_t *pix;
    int n, cap;
    int *file, *index;
} image_list;

static void list_add(image_list *l, const uint8_t *img, int file, int index) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->pix = realloc(l->pix, (size_t)l->cap * 784);
        l->file = realloc(l->file, (size_t)l->cap * sizeof *l->file);
        l->index = realloc(l->index, (size_t)l->cap * sizeof *l->index);
        if (!l->pix || !l->file || !l->index) gancl_die("out of host memory");
    }
    memcpy(l->pix + (size_t)l->n * 784, img, 784);
    l->file[l->n] = file;
    l->index[l->n++] = index;
}

/* Adds the image(s) of one file; -1 and a message when it cannot be read. */
static int read_input(const char *path, int file, image_list *l, char *err) {
    uint8_t *raw;
    size_t n;
    char why[GANCL_ERR_LEN];
    if (gancl_read_file(path, &raw, &n, err)) return -1;
    int rc = 0;
    if (n >= 8 && !memcmp(raw, "\x89PNG\r\n\x1a\n", 8)) {
        uint8_t img[784];
        if ((rc = gancl_digit_from_png(raw, n, img, why)) == 0) list_add(l, img, file, -1);
        else snprintf(err, GANCL_ERR_LEN, "%s: %s", path, why);
    } else {
        gancl_idx idx;
        if (gancl_idx_decode(gancl_basename(path), raw, n, &idx, why)) {
            snprintf(err, GANCL_ERR_LEN, "%s: not a PNG picture, nor an IDX file (%s)", path, why);
            rc = -1;
        } else if (idx.magic != GANCL_IDX_IMAGES || idx.rows != 28 || idx.cols != 28 || idx.count == 0) {
            snprintf(err, GANCL_ERR_LEN, "%s: an IDX file, but not of 28 x 28 images (%s, %u x %u, %u items)", path,
                     idx.magic == GANCL_IDX_IMAGES ? "images" : "labels", idx.rows, idx.cols, idx.count);
            rc = -1;
        } else {
            for (uint32_t i = 0; i < idx.count; i++) list_add(l, idx.data + (size_t)i * 784, file, (int)i);
        }
        gancl_idx_free(&idx);
    }
    free(raw);
    return rc;
}

/* probs [n, 10] from the D of the ssgan checkpoint at `path`; -1 and a message otherwise. */
static int predict_checkpoint(const gancl_runtime *rt, const char *path, const uint8_t *pix, int n, float *probs,
                              char *err) {
    gancl_checkpoint ck;
    gancl_arch arch;
    gancl_gan gan;
    char why[GANCL_ERR_LEN];
    if (gancl_checkpoint_open(path, &ck, err)) return -1;
    int rc = -1;
    if (gancl_checkpoint_arch(&ck, &arch, err)) goto out;
    if (arch.model != GANCL_MODEL_SSGAN) {
        snprintf(err, GANCL_ERR_LEN, "%s: a %s checkpoint, whose D tells real from fake but names no digits\n"
                 "  hint: give an ssgan checkpoint (`gan-cl --model ssgan`), or leave --checkpoint out to use "
                 "gan-cl's classifier", path, gancl_model_name(arch.model));
        goto out;
    }
    if (gancl_gan_init(&gan, rt, &arch, 100, 1, 0, why)) {
        snprintf(err, GANCL_ERR_LEN, "%s: %s", path, why);
        goto out;
    }
    const float ema = gancl_checkpoint_ema(&ck);
    if ((ema > 0 && gancl_gan_enable_ema(&gan, ema, err)) || gancl_checkpoint_load_into(&ck, &gan, err)) {
        gancl_gan_free(&gan);
        goto out;
    }
    gancl_ssgan_predict(&gan, pix, n, probs, NULL);
    gancl_gan_free(&gan);
    rc = 0;
out:
    gancl_checkpoint_close(&ck);
    return rc;
}

int gancl_classify_command(const gancl_runtime *rt, const char *dir, const char *checkpoint, const char *const *files,
                           int n_files, const char *labels, int quiet) {
    char err[GANCL_ERR_LEN];
    image_list l = {0};
    int failed = 0;
    for (int f = 0; f < n_files; f++)
        if (read_input(files[f], f, &l, err)) {
            fprintf(stderr, "gan-cl: error: %s\n", err);
            failed++;
        }
    gancl_idx lab = {0};
    int status = 1;
    if (l.n == 0) {
        fprintf(stderr, "gan-cl: error: no image to classify\n"
                        "  hint: give PNG pictures of single digits or IDX image files\n");
        goto out;
    }
    if (labels) {
        if (failed) {
            fprintf(stderr, "gan-cl: error: --labels %s: %d input file(s) could not be read, so the labels do "
                            "not line up with the images\n", labels, failed);
            goto out;
        }
        if (gancl_idx_load(labels, &lab, err)) {
            fprintf(stderr, "gan-cl: error: --labels %s\n", err);
            goto out;
        }
        if (lab.magic != GANCL_IDX_LABELS || lab.count != (uint32_t)l.n) {
            fprintf(stderr, "gan-cl: error: --labels %s: %s %u items for %d images\n"
                            "  hint: one label (0-9) per image, in the order the images are given\n", labels,
                    lab.magic == GANCL_IDX_LABELS ? "labels," : "not a labels file,", lab.count, l.n);
            goto out;
        }
        for (uint32_t i = 0; i < lab.count; i++)
            if (lab.data[i] >= GANCL_CLASSES) {
                fprintf(stderr, "gan-cl: error: --labels %s: label %u of item %u is not a digit\n", labels,
                        lab.data[i], i);
                goto out;
            }
    }
    float *probs = malloc((size_t)l.n * GANCL_CLASSES * sizeof *probs);
    if (!probs) gancl_die("out of host memory");
    if (checkpoint) {
        if (predict_checkpoint(rt, checkpoint, l.pix, l.n, probs, err)) {
            fprintf(stderr, "gan-cl: error: %s\n", err);
            free(probs);
            goto out;
        }
    } else {
        gancl_classifier c;
        gancl_dataset tr, test;
        int trained;
        if (gancl_classifier_open_dir(&c, rt, dir, &tr, &test, quiet, &trained, err)) {
            fprintf(stderr, "gan-cl: error: %s\n  hint: the classifier is gan-cl's own, trained on the data set "
                            "in --data (`gan-cl download` fetches MNIST)\n", err);
            free(probs);
            goto out;
        }
        gancl_classifier_predict(&c, l.pix, l.n, probs);
        gancl_classifier_free(&c);
        gancl_dataset_free(&tr);
        gancl_dataset_free(&test);
    }
    long conf[GANCL_CLASSES][GANCL_CLASSES] = {{0}}, right = 0;
    for (int i = 0; i < l.n; i++) {
        const float *p = probs + (size_t)i * GANCL_CLASSES;
        const int k = gancl_classifier_argmax(p);
        if (l.index[i] < 0) printf("%s: %d (%.2f%%)", files[l.file[i]], k, 100.0 * p[k]);
        else printf("%s #%d: %d (%.2f%%)", files[l.file[i]], l.index[i], k, 100.0 * p[k]);
        if (labels) {
            const int y = lab.data[i];
            conf[y][k]++;
            right += k == y;
            printf(k == y ? "  right\n" : "  wrong: labelled %d\n", y);
        } else {
            printf("\n");
        }
    }
    if (labels) {
        printf("accuracy: %.2f%% (%ld of %d images)\n", 100.0 * right / l.n, right, l.n);
        gancl_confusion_print(stdout, conf);
    }
    free(probs);
    status = failed ? 1 : 0;
out:
    gancl_idx_free(&lab);
    free(l.pix);
    free(l.file);
    free(l.index);
    return status;
}
