/* evaluate.h: scoring as gan-cl's commands use it: the scorer (the classifier of a training
 * set and its test set as the reference), one-line and full reports of gancl_scores, and
 * `gan-cl score`. */
#ifndef GANCL_EVALUATE_H
#define GANCL_EVALUATE_H

#include "gancl/score.h"

#include <stdio.h>

typedef struct gancl_scorer {
    gancl_classifier c;
    gancl_dataset test;
    gancl_score_ref ref;
    double ref_s; /* seconds the reference's features took */
} gancl_scorer;

/* Opens the classifier of `train` (training it first when it is not cached, unless
 * `only_cached`: then 1 and nothing opened) and the reference from the test split in `dir`.
 * 0 when open, -1 and a message. */
int gancl_scorer_open(gancl_scorer *s, const gancl_runtime *rt, const gancl_dataset *train, const char *dir,
                      int only_cached, int quiet, char *err);
void gancl_scorer_free(gancl_scorer *s);

/* Samples from a GAN scored: `count` images from `seed` (gancl_gan_sample_images: the
 * images `gan-cl generate --seed` writes). */
struct gancl_gan;
void gancl_scorer_score_gan(const gancl_scorer *s, struct gancl_gan *gan, int count, uint64_t seed,
                            gancl_scores *out);
/* The classes that got at least 1% of the images. */
int gancl_scores_classes_present(const gancl_scores *s);
/* "FID 12.3  P 0.71  R 0.55  IS 8.9  classes 10/10" */
void gancl_scores_line(const gancl_scores *s, char *out, size_t len);
/* A mode-collapse warning (a class under 1%, or KL to uniform above 0.5) into out; 0 when
 * there is none. */
int gancl_scores_collapse(const gancl_scores *s, char *out, size_t len);

/* `gan-cl score`: scores `count` images of a checkpoint's generator or of an IDX file against
 * the test set in `dir`, next to `count` real training images (the floor). Returns the exit
 * status. */
int gancl_score_command(const gancl_runtime *rt, const char *dir, const char *checkpoint, const char *idx_path,
                        int count, int count_given, uint64_t seed, int json, int quiet);

#endif
