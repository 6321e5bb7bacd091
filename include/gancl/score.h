/* score.h: how good generated digits are, measured with gan-cl's own classifier
 * (classifier.h) against real images: the Frechet distance of its feature-layer activations
 * (FID), an Inception-Score-like value, the histogram of predicted classes, and precision and
 * recall (Kynkaanniemi et al. 2019, k = 3 nearest neighbours in the same features). The
 * statistics run on the host in double; the nearest-neighbour search runs on the device (a
 * GEMM, then cl/score.cl). */
#ifndef GANCL_SCORE_H
#define GANCL_SCORE_H

#include "gancl/classifier.h"

typedef struct {
    int n;                       /* images scored */
    double fid;                  /* against the reference set's features */
    double is;                   /* exp E[KL(p(y|x) || p(y))], 1 .. 10 */
    double hist[GANCL_CLASSES];  /* fraction of the images given each class */
    double kl_uniform;           /* KL(hist || uniform), 0 .. log 10 */
    double precision, recall;    /* fractions: of the images inside the real manifold, of the
                                    real images inside theirs */
    int labelled;                /* the images came with the classes they were asked to be: */
    double accuracy;             /* the fraction the classifier gives that class */
    double class_accuracy[GANCL_CLASSES]; /* the same per asked class; -1: none asked */
} gancl_scores;

/* Mean mu [dim] and covariance cov [dim, dim] (divided by n - 1) of feat [n, dim]. */
void gancl_feature_stats(const float *feat, int n, int dim, double *mu, double *cov);
/* Eigenvalues w [n] (ascending) and eigenvectors (the columns of v [n, n]) of the symmetric
 * a [n, n], which is overwritten (cyclic Jacobi rotations, in double). */
void gancl_symeig(double *a, int n, double *w, double *v);
/* ||mu1 - mu2||^2 + tr(c1) + tr(c2) - 2 tr((c1 c2)^(1/2)); the trace of the square root as
 * tr((s c2 s)^(1/2)) with s = c1^(1/2), both through gancl_symeig. */
double gancl_fid(const double *mu1, const double *c1, const double *mu2, const double *c2, int dim);
/* exp of the mean KL(p(y|x) || p(y)) over probs [n, 10], p(y) their mean. */
double gancl_inception_like(const float *probs, int n);
/* hist: the fraction of rows of probs [n, 10] whose largest probability is each class's;
 * returns KL(hist || uniform). */
double gancl_class_histogram(const float *probs, int n, double hist[GANCL_CLASSES]);
/* The fraction of rows of probs [n, 10] whose largest probability is labels[i]'s, overall
 * (returned) and per label (per_class; -1 for labels that do not occur). */
double gancl_label_accuracy(const float *probs, const int *labels, int n, double per_class[GANCL_CLASSES]);

/* A feature set on the device, with each member's squared distance to its 3rd nearest
 * neighbour in the set (its radius). */
typedef struct {
    const gancl_runtime *rt;
    int n, dim;
    cl_mem feat;   /* [n, dim] */
    cl_mem norm;   /* squared norms [n] */
    cl_mem radius; /* [n] */
} gancl_manifold;

void gancl_manifold_make(gancl_manifold *m, const gancl_runtime *rt, const float *feat, int n, int dim);
void gancl_manifold_free(gancl_manifold *m);
/* The fraction of `queries` inside the manifold of `refs` (within some reference's radius):
 * precision with refs real and queries generated, recall the other way round. */
double gancl_manifold_coverage(const gancl_manifold *refs, const gancl_manifold *queries);

/* The most floats one block of dot products takes (default 2^24; 0 restores it): the queries
 * go in blocks that fit. Tests set it small to cross block boundaries. */
void gancl_score_set_block_limit(size_t floats);

/* The kernels (see cl/score.cl), on gt [R, Q] = refs . queries^T. */
void knn_radius(const gancl_runtime *rt, gancl_ptr radius, gancl_ptr gt, gancl_ptr qn, gancl_ptr rn, int Q, int R);
void knn_inside(const gancl_runtime *rt, gancl_ptr inside, gancl_ptr gt, gancl_ptr qn, gancl_ptr rn,
                gancl_ptr radius, int Q, int R);
/* C references in double, from the features: radius [n] of feat [n, dim], and coverage. */
void gancl_knn_radius_ref(double *radius, const float *feat, int n, int dim);
double gancl_coverage_ref(const float *refs, const double *radius, int nr, const float *queries, int nq, int dim);

/* What generated images are compared with: the classifier and a set of real images (the test
 * set): their feature statistics and manifold. */
typedef struct {
    gancl_classifier *c;
    int n;
    double *mu, *cov;
    gancl_manifold real;
} gancl_score_ref;

void gancl_score_ref_make(gancl_score_ref *ref, gancl_classifier *c, const uint8_t *images, int n);
void gancl_score_ref_free(gancl_score_ref *ref);
/* Every score of n uint8 28 x 28 images against the reference; with labels (or NULL), the
 * classes the images were asked to be, their accuracy too. */
void gancl_score_images(const gancl_score_ref *ref, const uint8_t *images, const int *labels, int n,
                        gancl_scores *s);

#endif
