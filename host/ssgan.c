/* ssgan.c: the semi-supervised GAN's labelled subset, objectives, iteration, data-dependent
 * initialisation and test error (ssgan.h). Dimensions: B = batch, I = 784 pixels, K = 10
 * classes, F = the feature layer's width. */
#include "gancl/ssgan.h"
#include "gancl/classifier.h"
#include "gancl/selftest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_LAB_Z 0x10000u /* the D step's fakes (train.c's STREAM_TRAIN_Z) */
#define STREAM_FM_Z 0x50000u  /* the G step's (train.c's STREAM_G_Z) */

static const gancl_ptr NONE = {NULL, 0};

int gancl_ssgan_label_subset(const uint8_t *labels, int count, int per_class, uint64_t seed, int *idx, char *err) {
    if (per_class == 0) {
        for (int i = 0; i < count; i++) idx[i] = i;
        return count;
    }
    int *order = malloc((size_t)count * sizeof *order);
    if (!order) gancl_die("out of host memory");
    for (int i = 0; i < count; i++) order[i] = i;
    uint64_t rng = seed * 0xD1B54A32D192ED03ull + 0x5353474Eull; /* "SSGN": not the epochs' stream */
    for (int i = count - 1; i > 0; i--) {
        const int j = (int)(gancl_splitmix64(&rng) % (uint64_t)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int n = 0;
    for (int c = 0; c < GANCL_CLASSES; c++) {
        int got = 0;
        for (int i = 0; i < count && got < per_class; i++)
            if (labels[order[i]] == c) idx[n + got++] = order[i];
        if (got < per_class) {
            snprintf(err, GANCL_ERR_LEN, "the training set has %d images of digit %d, fewer than the %d per class "
                     "asked for", got, c, per_class);
            free(order);
            return -1;
        }
        n += got;
    }
    free(order);
    return n;
}

float gancl_ssgan_lr(float lr, long step, long total) {
    const double f = total > 0 ? 3.0 * (1.0 - (double)step / total) : 1.0;
    return (float)(lr * (f < 1 ? (f > 0 ? f : 0) : 1));
}

#define A(off) gancl_gan_io(gan, (off))

/* D on rows [0, n) of d_x into d_logit (training mode). */
static void d_forward(gancl_gan *gan, int n) {
    gancl_net_forward(&gan->d, A(gan->d_logit), A(gan->d_x), 0, n, 1);
}

void gancl_ssgan_iteration(gancl_gan *gan, const gancl_step_config *cfg, float lr, float unlabeled_weight,
                           cl_mem images, cl_mem lab, cl_mem lab_classes, cl_mem unl, cl_mem unl2, size_t off,
                           uint64_t seed, long step) {
    const gancl_runtime *rt = gan->rt;
    const int B = gan->batch, I = gan->arch.image, K = GANCL_CLASSES, Z = gan->arch.latent;
    const float w = unlabeled_weight;
    const uint32_t hi = (uint32_t)(step >> 32);
    gancl_ptr x = A(gan->d_x), z = A(gan->z), labels = {gan->labels, 0};

    // ---- D step: [labelled; unlabelled; G(z)] ----
    gather_images(rt, x, images, lab, off, B, I, 1);
    CL_CHECK(clEnqueueCopyBuffer(rt->queue, lab_classes, gan->labels, off * sizeof(cl_int), 0, (size_t)B * sizeof(cl_int),
                                 0, NULL, NULL));
    const int rows = w != 0 ? 3 * B : B;
    gancl_gan_set_noise(gan, seed, step, 0);
    if (w != 0) {
        gather_images(rt, gancl_at(x, (size_t)B * I), images, unl, off, B, I, 1);
        gancl_gan_noise(gan, z, (size_t)B * Z, seed, (uint32_t)step, STREAM_LAB_Z | hi);
        gancl_gan_generate(gan, gancl_at(x, (size_t)2 * B * I), B, 1);
    }
    d_forward(gan, rows);
    gancl_ptr l = A(gan->d_logit), dl = A(gan->d_dlogit);
    softmax_xent(rt, dl, l, labels, B, K, 1.0f / B, gan->acc, GANCL_ACC_LAB_LOSS, GANCL_ACC_LAB_CORRECT);
    if (w != 0) {
        const size_t r1 = (size_t)B * K, r2 = 2 * r1;
        kplus1_loss(rt, gancl_at(dl, r1), gancl_at(l, r1), B, K, -0.5f * w, 0.5f * w, 1.0f / B, gan->acc,
                    GANCL_ACC_D_LOSS, 1.0f, GANCL_ACC_D_REAL);
        kplus1_loss(rt, gancl_at(dl, r2), gancl_at(l, r2), B, K, 0.0f, 0.5f * w, 1.0f / B, gan->acc,
                    GANCL_ACC_D_LOSS, 1.0f, GANCL_ACC_D_FAKE);
    }
    zero_grads(rt, gan->d.buf, gan->d.params.size);
    gancl_net_backward(&gan->d, NONE, dl, l, x, 0, rows, 1);
    gancl_gan_optimize(gan, &gan->d, lr, cfg);
    if (w == 0) return; /* G cannot change what D learns */

    // ---- G step: feature matching between a second unlabelled batch and G(z) ----
    const int fl = gancl_ssgan_feature_layer(&gan->d), F = gan->d.layer_shape[fl].c;
    gancl_ptr fake = gancl_at(x, (size_t)B * I), f_real, f_fake, g_real, g_fake;
    char err[GANCL_ERR_LEN];
    if (gancl_net_feature(&gan->d, fl, 0, &f_real, &g_real, err) || gancl_net_feature(&gan->d, fl, B, &f_fake, &g_fake, err))
        gancl_die("%s", err);
    gather_images(rt, x, images, unl2, off, B, I, 1);
    gancl_gan_noise(gan, z, (size_t)B * Z, seed, (uint32_t)step, STREAM_FM_Z | hi);
    gancl_gan_set_noise(gan, seed, step, 1);
    gancl_gan_generate(gan, fake, B, 1);
    d_forward(gan, 2 * B);
    gancl_ptr sq = A(gan->gp_sq);
    feature_match(rt, g_fake, sq, f_real, f_fake, B, F, 1.0f);
    gp_sum(rt, gan->acc, GANCL_ACC_G_LOSS, sq, F, 1.0f);
    gancl_net_backward_from(&gan->d, fl, A(gan->d_dx), fake, B, B, 0);
    zero_grads(rt, gan->g.buf, gan->g.params.size);
    gancl_net_backward(&gan->g, NONE, A(gan->d_dx), fake, z, 0, B, 1);
    gancl_gan_optimize(gan, &gan->g, lr, cfg);
}

/* g = 1 / std, b = -mean / std of each weight-normalised Linear's pre-activation on inp [n, in]. */
static void init_net(gancl_net *net, const double *inp, int n, uint64_t seed) {
    const gancl_runtime *rt = net->rt;
    const size_t P = net->params.size;
    float *pf = malloc((P ? P : 1) * sizeof *pf), *rf = malloc((net->running.size + 1) * sizeof *rf);
    double *p = malloc((P ? P : 1) * sizeof *p), *run = malloc((net->running.size + 1) * sizeof *run);
    if (!pf || !rf || !p || !run) gancl_die("out of host memory");
    gancl_read(rt, net->buf, 0, P * sizeof *pf, pf);
    if (net->running.size) gancl_read(rt, net->running_buf, 0, net->running.size * sizeof *rf, rf);
    for (size_t i = 0; i < P; i++) p[i] = pf[i];
    for (int i = 0; i < net->n_layers; i++) {
        const gancl_layer *L = &net->layer[i];
        if (L->kind != GANCL_LINEAR || !L->weight_norm) continue;
        const gancl_tensor_info *g = &net->params.t[net->layer_param[i] + 1], *b = &net->params.t[net->layer_param[i] + 2];
        for (int o = 0; o < L->n; o++) p[g->off + o] = 1, p[b->off + o] = 0;
        for (size_t k = 0; k < net->running.size; k++) run[k] = rf[k]; /* the statistics stay as they were */
        gancl_net_ref r;
        gancl_net_ref_forward(&r, net, p, run, inp, NULL, n, 1, seed, 0, 7);
        const double *y = r.x[i + 1];
        for (int o = 0; o < L->n; o++) {
            double m = 0, v = 0;
            for (int row = 0; row < n; row++) m += y[(size_t)row * L->n + o];
            m /= n;
            for (int row = 0; row < n; row++) v += (y[(size_t)row * L->n + o] - m) * (y[(size_t)row * L->n + o] - m);
            const double sd = sqrt(v / n + 1e-8);
            p[g->off + o] = 1 / sd;
            p[b->off + o] = -m / sd;
        }
        gancl_net_ref_free(&r);
    }
    for (size_t i = 0; i < P; i++) pf[i] = (float)p[i];
    gancl_write(rt, net->buf, 0, P * sizeof *pf, pf);
    free(pf);
    free(rf);
    free(p);
    free(run);
}

void gancl_ssgan_data_init(gancl_gan *gan, const uint8_t *images, int n, uint64_t seed) {
    const int I = gan->arch.image;
    double *x = malloc((size_t)n * I * sizeof *x);
    if (!x) gancl_die("out of host memory");
    for (size_t i = 0; i < (size_t)n * I; i++) x[i] = images[i] / 255.0;
    init_net(&gan->d, x, n, seed);
    free(x);
}

void gancl_ssgan_predict(gancl_gan *gan, const uint8_t *images, int n, float *probs, int *pred) {
    const gancl_runtime *rt = gan->rt;
    const int I = gan->arch.image, K = GANCL_CLASSES, chunk = gan->d_rows;
    float *x = malloc((size_t)chunk * I * sizeof *x), *l = malloc((size_t)chunk * K * sizeof *l);
    if (!x || !l) gancl_die("out of host memory");
    for (int done = 0; done < n; done += chunk) {
        const int m = n - done < chunk ? n - done : chunk;
        for (size_t i = 0; i < (size_t)m * I; i++) x[i] = images[(size_t)done * I + i] / 255.0f;
        gancl_write(rt, gan->io, gan->d_x * sizeof(float), (size_t)m * I * sizeof *x, x);
        gancl_net_forward(&gan->d, A(gan->d_logit), A(gan->d_x), 0, m, 0);
        gancl_read(rt, gan->io, gan->d_logit * sizeof(float), (size_t)m * K * sizeof *l, l);
        for (int r = 0; r < m; r++) {
            const float *lr = l + (size_t)r * K;
            int arg = 0;
            for (int k = 1; k < K; k++)
                if (lr[k] > lr[arg]) arg = k;
            if (pred) pred[done + r] = arg;
            if (!probs) continue;
            double s = 0;
            for (int k = 0; k < K; k++) s += exp((double)lr[k] - lr[arg]);
            for (int k = 0; k < K; k++) probs[(size_t)(done + r) * K + k] = (float)(exp((double)lr[k] - lr[arg]) / s);
        }
    }
    free(x);
    free(l);
}

double gancl_ssgan_test_error(gancl_gan *gan, const gancl_dataset *ds, long confusion[10][10]) {
    const int n = (int)ds->images.count;
    int *pred = malloc((size_t)(n ? n : 1) * sizeof *pred);
    if (!pred) gancl_die("out of host memory");
    gancl_ssgan_predict(gan, ds->images.data, n, NULL, pred);
    long wrong = 0;
    if (confusion) memset(confusion, 0, sizeof(long) * 100);
    for (int i = 0; i < n; i++) {
        const int y = ds->labels.data[i];
        wrong += pred[i] != y;
        if (confusion && y < 10) confusion[y][pred[i]]++;
    }
    free(pred);
    return n ? (double)wrong / n : 0;
}
