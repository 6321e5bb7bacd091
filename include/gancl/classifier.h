/* classifier.h: gan-cl's own digit classifier, a small CNN (the table in models.c) that
 * gan-cl trains itself, once per training set, and keeps in the cache as
 * "<cache>/classifiers/<SHA-256 of the training images and labels>.safetensors". A damaged or
 * foreign file is rejected and the classifier trained again. `gan-cl classifier` reports its
 * test accuracy and confusion matrix. */
#ifndef GANCL_CLASSIFIER_H
#define GANCL_CLASSIFIER_H

#include "gancl/mnist.h"
#include "gancl/net.h"

#include <stdio.h>

#define GANCL_CLASSES 10
#define GANCL_CLASSIFIER_BATCH 128 /* its training batch (tuning keys on it) */
#define GANCL_FEATURES 128 /* the feature layer: the input of the last Linear (scores use it) */

typedef struct {
    const gancl_runtime *rt;
    gancl_net net;
    cl_mem scratch, io, labels, acc, images, perm;
    int batch;            /* rows of one pass */
    size_t x, logit, dlogit; /* offsets in io: input [batch, 784], logits, their gradient [batch, 10] */
    char key[65];         /* the training set's SHA-256 */
    char path[4200];      /* its cache file */
} gancl_classifier;

/* The classifier table: 1 x 28 x 28 -> 10 logits. */
int gancl_classifier_table(gancl_layer *layers);

/* Loads the classifier of `train` from the cache, or trains it (a progress line unless
 * quiet; one line per epoch with the accuracy on `test`) and stores it. *trained tells
 * which. -1 and a message when it can be neither. */
int gancl_classifier_open(gancl_classifier *c, const gancl_runtime *rt, const gancl_dataset *train,
                          const gancl_dataset *test, int quiet, int *trained, char *err);
/* Whether the cache holds a classifier file for `train` (not yet checked for damage). */
int gancl_classifier_cached(const gancl_dataset *train);
/* Class probabilities probs [n, 10] of n uint8 28 x 28 images (evaluation mode). */
void gancl_classifier_predict(gancl_classifier *c, const uint8_t *images, int n, float *probs);
/* The predicted class of one row of probabilities [10] (the first of equal maxima). */
int gancl_classifier_argmax(const float *probs);
/* The same, and unless NULL the feature layer's activations feat [n, GANCL_FEATURES]; probs
 * may be NULL. */
void gancl_classifier_features(gancl_classifier *c, const uint8_t *images, int n, float *feat, float *probs);
/* Accuracy on `ds` and its confusion matrix (rows: true class, columns: predicted). */
double gancl_classifier_accuracy(gancl_classifier *c, const gancl_dataset *ds, long confusion[GANCL_CLASSES][GANCL_CLASSES]);
void gancl_classifier_free(gancl_classifier *c);
/* The GEMM shapes of one training iteration, recorded into log (for `gan-cl tune`). */
struct gancl_shape_log;
void gancl_classifier_record_shapes(gancl_runtime *rt, struct gancl_shape_log *log);

/* Loads `dir`'s training and test sets into *tr and *test (the caller frees them after the
 * classifier) and opens their classifier; on failure nothing stays loaded. */
int gancl_classifier_open_dir(gancl_classifier *c, const gancl_runtime *rt, const char *dir, gancl_dataset *tr,
                              gancl_dataset *test, int quiet, int *trained, char *err);
/* Prints a confusion matrix (rows: true class, columns: predicted). */
void gancl_confusion_print(FILE *out, long confusion[GANCL_CLASSES][GANCL_CLASSES]);

/* `gan-cl classifier`: opens (training if needed) the classifier of `dir`'s training set and
 * prints its test accuracy and confusion matrix. Returns the exit status. */
int gancl_classifier_report(const gancl_runtime *rt, const char *dir, int quiet);

#endif
