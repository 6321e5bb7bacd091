/* ssgan.h: the semi-supervised GAN (Salimans et al. 2016, "Improved Techniques for Training
 * GANs"; the facts from openai/improved-gan's MNIST script). D is a digit classifier whose 10
 * logits also tell real from fake: K + 1 classes with the fake class's logit fixed at 0, so
 * D(x) = Z / (Z + 1), Z = sum_k exp(l_k). It learns from N labelled training images and all
 * 60,000 unlabelled ones; G learns by feature matching. The networks are models.c's ssgan
 * tables; this file owns the labelled subset, the objectives and the iteration built from
 * them, the data-dependent initialisation, the learning-rate schedule and the test error. */
#ifndef GANCL_SSGAN_H
#define GANCL_SSGAN_H

#include "gancl/gan.h"
#include "gancl/mnist.h"

/* The labelled subset: the first `per_class` images of each class in an order drawn from
 * `seed` (Fisher-Yates on splitmix64), as training-set indices, class by class, into idx
 * (room for 10 * per_class). per_class = 0: every image, in order (the supervised case).
 * Returns how many; -1 and a message when a class has fewer images than asked. */
int gancl_ssgan_label_subset(const uint8_t *labels, int count, int per_class, uint64_t seed, int *idx, char *err);

/* The learning rate at `step` of `total`: lr, decayed linearly to 0 over the last third. */
float gancl_ssgan_lr(float lr, long step, long total);

/* One iteration at rows off .. off + B of three orders of the training set: lab (labelled
 * images, classes in lab_classes), unl and unl2 (all images, independently shuffled).
 * D step: D on [labelled; unlabelled; G(z)] (3B rows, training mode), loss = softmax
 * cross-entropy of the labelled rows + w * (-1/2 mean lse(unl) + 1/2 mean softplus(lse(unl))
 * + 1/2 mean softplus(lse(fake))), w = unlabeled_weight. G step on fresh noise: feature
 * matching of mean f(unl2) and mean f(G(z)), f the D's last ReLU (noise active, as in the
 * script). w = 0: the D step on the labelled rows alone and no G step (a plain classifier).
 * Adam at lr for both. Adds to gan->acc: D_LOSS (the weighted unlabelled loss), LAB_LOSS,
 * LAB_CORRECT, D_REAL, D_FAKE (mean D(x)), G_LOSS. */
void gancl_ssgan_iteration(gancl_gan *gan, const gancl_step_config *cfg, float lr, float unlabeled_weight,
                           cl_mem images, cl_mem lab, cl_mem lab_classes, cl_mem unl, cl_mem unl2, size_t off,
                           uint64_t seed, long step);

/* Data-dependent initialisation of D (Salimans & Kingma 2016, as the script does): each
 * weight-normalised Linear in list order gets g = 1 / std and b = -mean / std of its
 * pre-activation over the first n training images, so that it starts with zero mean and unit
 * variance there. In double through the reference engine (net.h), in training mode (noise
 * from `seed`). G is left as initialised: the script's G has no such initialisation. */
void gancl_ssgan_data_init(gancl_gan *gan, const uint8_t *images, int n, uint64_t seed);

/* Class probabilities probs [n, 10] (softmax of D's logits, evaluation mode: no noise) of n
 * uint8 28 x 28 images; probs may be NULL. pred [n] the predicted classes, unless NULL. */
void gancl_ssgan_predict(gancl_gan *gan, const uint8_t *images, int n, float *probs, int *pred);
/* The share of `ds` D names wrong, and its confusion matrix unless NULL. */
double gancl_ssgan_test_error(gancl_gan *gan, const gancl_dataset *ds, long confusion[10][10]);

#endif
