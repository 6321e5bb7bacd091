/* models.c: the models as tables. Each network is an ordered list of layers (net.h) whose
 * positions give the PyTorch state_dict names; the widths come from the command line
 * (--g-layers, --d-layers), the constants from the papers and tutorials the models follow. */
#include "gancl/classifier.h"
#include "gancl/gan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The classic MLP GAN of Keras-GAN / PyTorch-GAN: LeakyReLU 0.2, BatchNorm with Keras'
 * momentum 0.8 (PyTorch 0.2) and eps 1e-3. */
#define MLP_SLOPE 0.2f
#define MLP_BN_EPS 1e-3f
#define MLP_BN_MOMENTUM 0.2f

static int mlp_generator(const gancl_arch *a, gancl_layer *l) {
    int n = 0;
    if (a->classes) l[n++] = gancl_embed(a->classes, a->classes); /* z -> [z, class embedding] */
    for (int i = 0; i < a->ng; i++) {       /* z -> hidden widths (256, 512, 1024) */
        l[n++] = gancl_linear(a->g[i], 1);
        l[n++] = gancl_leaky_relu(MLP_SLOPE);
        l[n++] = gancl_batchnorm(MLP_BN_EPS, MLP_BN_MOMENTUM);
    }
    l[n++] = gancl_linear(a->image, 1);      /* -> 784 pixels in [-1, 1] */
    l[n++] = gancl_act_layer(GANCL_TANH);
    return n;
}

static int mlp_discriminator(const gancl_arch *a, gancl_layer *l) {
    int n = 0;
    if (a->classes && !a->projection) l[n++] = gancl_embed(a->classes, a->classes); /* x -> [x, embedding] */
    for (int i = 0; i < a->nd; i++) {       /* 784 -> hidden widths (512, 256) */
        l[n++] = gancl_linear(a->d[i], 1);
        l[n++] = gancl_leaky_relu(MLP_SLOPE);
        if (a->dropout > 0) l[n++] = gancl_dropout(a->dropout); /* the conditional MLP's */
    }
    /* -> one logit (or critic score); the projection adds embed(class) . features */
    l[n++] = a->classes && a->projection ? gancl_projection(a->classes) : gancl_linear(1, 1);
    return n;
}

/* The TensorFlow DCGAN tutorial's: LeakyReLU 0.3 (TensorFlow's default), BatchNorm with
 * Keras' default momentum 0.99 (PyTorch 0.01), 5x5 kernels, PyTorch padding 2 and output
 * padding 1 in place of TensorFlow's "same", no biases in G. */
#define DC_SLOPE 0.3f
#define DC_BN_EPS 1e-3f
#define DC_BN_MOMENTUM 0.01f

static int dcgan_generator(const gancl_arch *a, gancl_layer *l) {
    const int *c = a->g; /* channels (256, 128, 64) */
    int n = 0;
    if (a->classes) l[n++] = gancl_embed(a->classes, a->classes); /* z -> [z, class embedding] */
    l[n++] = gancl_linear(c[0] * 7 * 7, 0);  /* z -> c0 x 7 x 7 */
    l[n++] = gancl_batchnorm(DC_BN_EPS, DC_BN_MOMENTUM);
    l[n++] = gancl_leaky_relu(DC_SLOPE);
    l[n++] = gancl_unflatten(c[0], 7, 7);
    l[n++] = gancl_convt2d(c[1], 5, 1, 2, 0); /* -> c1 x 7 x 7 */
    l[n++] = gancl_batchnorm(DC_BN_EPS, DC_BN_MOMENTUM);
    l[n++] = gancl_leaky_relu(DC_SLOPE);
    l[n++] = gancl_convt2d(c[2], 5, 2, 2, 1); /* -> c2 x 14 x 14 */
    l[n++] = gancl_batchnorm(DC_BN_EPS, DC_BN_MOMENTUM);
    l[n++] = gancl_leaky_relu(DC_SLOPE);
    l[n++] = gancl_convt2d(1, 5, 2, 2, 1);    /* -> 1 x 28 x 28 */
    l[n++] = gancl_act_layer(GANCL_TANH);
    return n;
}

static int dcgan_discriminator(const gancl_arch *a, gancl_layer *l) {
    const int *e = a->d; /* channels (64, 128) */
    int n = 0;
    if (a->classes && !a->projection) { /* the class as a second channel: 1 x 28 x 28 -> 2 x 28 x 28 */
        l[n++] = gancl_embed(a->classes, 28 * 28);
        l[n++] = gancl_unflatten(2, 28, 28);
    }
    l[n++] = gancl_conv2d(e[0], 5, 2, 2, 1);  /* 1 x 28 x 28 -> e0 x 14 x 14 */
    l[n++] = gancl_leaky_relu(DC_SLOPE);
    l[n++] = gancl_dropout(a->dropout);
    l[n++] = gancl_conv2d(e[1], 5, 2, 2, 1);  /* -> e1 x 7 x 7 */
    l[n++] = gancl_leaky_relu(DC_SLOPE);
    l[n++] = gancl_dropout(a->dropout);
    l[n++] = gancl_flatten();
    l[n++] = a->classes && a->projection ? gancl_projection(a->classes) : gancl_linear(1, 1); /* -> one logit */
    return n;
}

/* The semi-supervised GAN of Salimans et al. 2016 (openai/improved-gan's MNIST script):
 * pixels in [0, 1], uniform noise. G: Linear without bias, BatchNorm, Softplus per width (500,
 * 500; the script's batch_norm(DenseLayer(..., softplus)) normalises before the
 * nonlinearity), then a weight-normalised Linear 784 and Sigmoid. D: GaussianNoise 0.3 on the
 * input, then per width (1000, 500, 250, 250, 250) a weight-normalised Linear, ReLU and
 * GaussianNoise 0.5 (training only), then a weight-normalised Linear to 10 logits: K + 1
 * classes with the fake class's logit fixed at 0. Feature matching reads the last ReLU. As in
 * the script's DenseLayer, the hidden layers' scales g are set by the data-dependent
 * initialisation and not trained (train_scale=False); the last layer's and G's are. */
#define SSGAN_INPUT_NOISE 0.3f
#define SSGAN_HIDDEN_NOISE 0.5f
#define SSGAN_BN_EPS 1e-5f /* PyTorch's defaults */
#define SSGAN_BN_MOMENTUM 0.1f

static int ssgan_generator(const gancl_arch *a, gancl_layer *l) {
    int n = 0;
    for (int i = 0; i < a->ng; i++) {
        l[n++] = gancl_linear(a->g[i], 0);
        l[n++] = gancl_batchnorm(SSGAN_BN_EPS, SSGAN_BN_MOMENTUM);
        l[n++] = gancl_act_layer(GANCL_SOFTPLUS);
    }
    l[n++] = gancl_linear_wn(a->image, 1);   /* -> 784 pixels in [0, 1] */
    l[n++] = gancl_act_layer(GANCL_SIGMOID);
    return n;
}

static int ssgan_discriminator(const gancl_arch *a, gancl_layer *l) {
    int n = 0;
    l[n++] = gancl_noise(SSGAN_INPUT_NOISE);
    for (int i = 0; i < a->nd; i++) {
        l[n++] = gancl_linear_wn(a->d[i], 0); /* its scale stays as initialised */
        l[n++] = gancl_act_layer(GANCL_RELU);
        l[n++] = gancl_noise(SSGAN_HIDDEN_NOISE);
    }
    l[n++] = gancl_linear_wn(GANCL_CLASSES, 1); /* -> 10 logits, the scale trained */
    return n;
}

int gancl_ssgan_feature_layer(const gancl_net *d) { return d->n_layers - 3; /* ..., ReLU, Noise, Linear */ }

/* gan-cl's own digit classifier (classifier.h): a small CNN of the LeNet class, PyTorch's
 * BatchNorm defaults (eps 1e-5, momentum 0.1); the 128 features before the last layer are
 * the ones the scores compare. */
int gancl_classifier_table(gancl_layer *l) {
    int n = 0;
    l[n++] = gancl_conv2d(32, 3, 1, 1, 1);   /* 1 x 28 x 28 -> 32 x 28 x 28 */
    l[n++] = gancl_batchnorm(1e-5f, 0.1f);
    l[n++] = gancl_act_layer(GANCL_RELU);
    l[n++] = gancl_maxpool2d(2);              /* -> 32 x 14 x 14 */
    l[n++] = gancl_conv2d(64, 3, 1, 1, 1);   /* -> 64 x 14 x 14 */
    l[n++] = gancl_batchnorm(1e-5f, 0.1f);
    l[n++] = gancl_act_layer(GANCL_RELU);
    l[n++] = gancl_maxpool2d(2);              /* -> 64 x 7 x 7 */
    l[n++] = gancl_flatten();
    l[n++] = gancl_linear(128, 1);            /* the feature layer */
    l[n++] = gancl_act_layer(GANCL_RELU);
    l[n++] = gancl_linear(GANCL_CLASSES, 1);  /* -> 10 logits */
    return n;
}

gancl_arch gancl_arch_default(gancl_model model, int latent) {
    gancl_arch a;
    memset(&a, 0, sizeof a);
    a.model = model;
    a.latent = latent;
    a.image = 784;
    static const int mlp_g[] = {256, 512, 1024}, mlp_d[] = {512, 256}, dc_g[] = {256, 128, 64}, dc_d[] = {64, 128};
    static const int ss_g[] = {500, 500}, ss_d[] = {1000, 500, 250, 250, 250};
    const int dc = model == GANCL_MODEL_DCGAN;
    if (model == GANCL_MODEL_SSGAN) {
        a.ng = 2;
        a.nd = 5;
        memcpy(a.g, ss_g, sizeof ss_g);
        memcpy(a.d, ss_d, sizeof ss_d);
        return a;
    }
    a.ng = 3;
    a.nd = 2;
    memcpy(a.g, dc ? dc_g : mlp_g, sizeof mlp_g);
    memcpy(a.d, dc ? dc_d : mlp_d, sizeof mlp_d);
    a.dropout = dc ? 0.3f : 0.0f;
    return a;
}

#define CGAN_D_DROPOUT 0.4f

void gancl_arch_conditional(gancl_arch *a) {
    a->classes = GANCL_CLASSES;
    if (a->model == GANCL_MODEL_MLP) a->dropout = CGAN_D_DROPOUT;
}

void gancl_model_constants(gancl_model model, float *slope, float *bn_eps, float *bn_momentum) {
    const int dc = model == GANCL_MODEL_DCGAN;
    if (model == GANCL_MODEL_SSGAN) { /* no LeakyReLU */
        *slope = 0;
        *bn_eps = SSGAN_BN_EPS;
        *bn_momentum = SSGAN_BN_MOMENTUM;
        return;
    }
    *slope = dc ? DC_SLOPE : MLP_SLOPE;
    *bn_eps = dc ? DC_BN_EPS : MLP_BN_EPS;
    *bn_momentum = dc ? DC_BN_MOMENTUM : MLP_BN_MOMENTUM;
}

const char *gancl_model_name(gancl_model model) {
    static const char *names[] = {"mlp", "dcgan", "classifier", "ssgan"};
    return (unsigned)model < sizeof names / sizeof *names ? names[model] : "?";
}

int gancl_model_parse(const char *name, gancl_model *model) {
    static const gancl_model gans[] = {GANCL_MODEL_MLP, GANCL_MODEL_DCGAN, GANCL_MODEL_SSGAN};
    for (size_t i = 0; name && i < sizeof gans / sizeof *gans; i++)
        if (!strcmp(name, gancl_model_name(gans[i]))) {
            *model = gans[i];
            return 0;
        }
    return -1;
}

int gancl_model_build(const gancl_arch *a, gancl_net *g, gancl_net *d, char *err) {
    const int dc = a->model == GANCL_MODEL_DCGAN, ss = a->model == GANCL_MODEL_SSGAN;
    if (a->model != GANCL_MODEL_MLP && !dc && !ss) {
        snprintf(err, GANCL_ERR_LEN, "%s: not a GAN", gancl_model_name(a->model));
        return -1;
    }
    if (a->ng < 1 || a->ng > GANCL_MAX_WIDTHS || a->nd < 1 || a->nd > GANCL_MAX_WIDTHS ||
        (dc && (a->ng != 3 || a->nd != 2))) {
        snprintf(err, GANCL_ERR_LEN, "%s: %d G and %d D layer widths (the DCGAN takes 3 and 2 channel "
                 "counts, the MLP 1 to %d each)", gancl_model_name(a->model), a->ng, a->nd, GANCL_MAX_WIDTHS);
        return -1;
    }
    if (dc && a->image != 784) {
        snprintf(err, GANCL_ERR_LEN, "dcgan: images must be 28x28");
        return -1;
    }
    gancl_layer lg[GANCL_MAX_LAYERS], ld[GANCL_MAX_LAYERS];
    if (ss && a->classes) {
        snprintf(err, GANCL_ERR_LEN, "ssgan: not a conditional model (its D names the classes)");
        return -1;
    }
    int ng = dc ? dcgan_generator(a, lg) : ss ? ssgan_generator(a, lg) : mlp_generator(a, lg);
    int nd = dc ? dcgan_discriminator(a, ld) : ss ? ssgan_discriminator(a, ld) : mlp_discriminator(a, ld);
    gancl_shape zin = {a->latent, 1, 1}, xin = {dc ? 1 : a->image, dc ? 28 : 1, dc ? 28 : 1};
    if (gancl_net_build(g, "generator", zin, lg, ng, err) || gancl_net_build(d, "discriminator", xin, ld, nd, err))
        return -1;
    if ((size_t)g->out_shape.c * g->out_shape.h * g->out_shape.w != (size_t)a->image) {
        snprintf(err, GANCL_ERR_LEN, "generator: makes %dx%dx%d, not %d pixels", g->out_shape.c, g->out_shape.h,
                 g->out_shape.w, a->image);
        return -1;
    }
    return 0;
}

int gancl_widths_parse(const char *s, int *w, int *n, char *err) {
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 65536 || (*end && *end != ',') || *n == GANCL_MAX_WIDTHS) {
            snprintf(err, GANCL_ERR_LEN, "'%s': expected up to %d comma-separated widths from 1 to 65536, "
                     "as 256,512,1024", s, GANCL_MAX_WIDTHS);
            return -1;
        }
        w[(*n)++] = (int)v;
        p = *end ? end + 1 : end;
        if (*end && !*p) {
            snprintf(err, GANCL_ERR_LEN, "'%s': a trailing comma", s);
            return -1;
        }
    }
    if (*n == 0) {
        snprintf(err, GANCL_ERR_LEN, "'%s': no widths", s);
        return -1;
    }
    return 0;
}

void gancl_widths_format(const int *w, int n, char *out, size_t len) {
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < n && k < len; i++) k += (size_t)snprintf(out + k, len - k, i ? ",%d" : "%d", w[i]);
}
