/* classify.h: `gan-cl classify`: names the digit in each of a user's images (PNG pictures of
 * one digit, prepared as digit.h says, or IDX files of 28 x 28 images) with gan-cl's digit
 * classifier (classifier.h, trained first when the cache lacks it) or a semi-supervised GAN's
 * discriminator, and with a labels file reports the accuracy and the confusion matrix. */
#ifndef GANCL_CLASSIFY_H
#define GANCL_CLASSIFY_H

#include "gancl/device.h"

/* Classifies the images of files[0 .. n) with the classifier of `dir`'s training set, or with
 * `checkpoint` (unless NULL) the discriminator of a semi-supervised GAN (ssgan.h); labels
 * (an IDX labels file, or NULL) must hold one label per image, in order. A file that cannot
 * be read is reported and skipped. Returns the exit status: 0, or 1 when any file failed. */
int gancl_classify_command(const gancl_runtime *rt, const char *dir, const char *checkpoint, const char *const *files,
                           int n, const char *labels, int quiet);

#endif
