/* metrics.h: the training log: rows of losses, rates and sample scores, written as
 * metrics.csv and plotted as losses.svg (both atomically, rewritten whole each time). */
#ifndef GANCL_METRICS_H
#define GANCL_METRICS_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    int epoch;       /* 1-based epoch the step belongs to */
    long step;       /* global iteration count after the logged interval */
    double d_loss, g_loss, d_real, d_fake; /* means over the interval (D's output: a probability
                                              for bce, the raw score otherwise) */
    double w_estimate; /* d_real - d_fake: the critic's Wasserstein estimate for wgan losses */
    double gp;         /* the gradient penalty's mean (wgan-gp; else 0) */
    double img_per_s, elapsed_s;
    double fid, precision, recall, is, kl_uniform; /* sample scores (score.h) at this step; NaN
                                                      when not scored here */
    double lab_loss;    /* ssgan: the labelled batches' cross-entropy (else NaN) */
    double train_error; /* ssgan: the share of labelled rows named wrong in the interval */
    double test_error;  /* ssgan: the share of the test set named wrong, at an epoch's end */
} gancl_metric_row;

typedef struct {
    gancl_metric_row *rows;
    size_t n, cap;
} gancl_metrics;

int gancl_metrics_add(gancl_metrics *m, gancl_metric_row row);
void gancl_metrics_free(gancl_metrics *m);
/* Reads rows with step <= max_step from an existing metrics.csv (to continue after --resume);
 * a missing file is no error, a malformed line is. */
int gancl_metrics_load(gancl_metrics *m, const char *path, long max_step, char *err);
/* The same from an open stream; `path` names it in messages. */
int gancl_metrics_read(gancl_metrics *m, FILE *f, const char *path, long max_step, char *err);
int gancl_metrics_write_csv(const gancl_metrics *m, const char *path, char *err);
/* The CSV text to a stream (what gancl_metrics_write_csv writes). */
void gancl_metrics_csv(const gancl_metrics *m, FILE *out);
/* Panels over steps: D and G loss; D(x) and D(G(z)) (as probabilities in [0, 1] when
 * `probabilities`, else raw scores with the Wasserstein estimate); when any row is scored,
 * FID, and precision and recall; when any has a test error (ssgan), the test and train error.
 * Readable in any browser. */
int gancl_metrics_write_svg(const gancl_metrics *m, const char *path, const char *title,
                            int probabilities, char *err);
/* The SVG text to a stream. */
void gancl_metrics_svg(const gancl_metrics *m, FILE *out, const char *title, int probabilities);

#endif
