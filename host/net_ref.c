/* net_ref.c: the reference engine: a network's list run layer by layer in double through the
 * layers' C references, without fusion or in-place tricks, for the tests (an independent check
 * of net.c's derived ops, slots and launches). */
#include "gancl/net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double *alloc_d(size_t n) {
    double *p = calloc(n ? n : 1, sizeof *p);
    if (!p) gancl_die("out of host memory");
    return p;
}

static size_t numel(gancl_shape s) { return (size_t)s.c * s.h * s.w; }

static gancl_shape input_of(const gancl_net *net, int i) { return i ? net->layer_shape[i - 1] : net->in_shape; }

static const double *tensor(const gancl_net *net, const double *params, int i) {
    return params + net->params.t[i].off;
}

static gancl_conv_geom geom_of(const gancl_net *net, int i) {
    const gancl_layer *L = &net->layer[i];
    const gancl_shape in = input_of(net, i);
    if (L->kind == GANCL_CONV2D) return gancl_conv_geom_make(in.c, in.h, in.w, L->k, L->stride, L->pad);
    return gancl_convt_geom_make(L->n, in.h, in.w, L->k, L->stride, L->pad, L->out_pad);
}

static int rng_ordinal(const gancl_net *net, int i) {
    int k = 0;
    for (int j = 0; j < i; j++) k += net->layer[j].kind == GANCL_DROPOUT || net->layer[j].kind == GANCL_NOISE;
    return k;
}

static void stream_of(const gancl_net *net, int i, uint64_t seed, long step, int stream, uint32_t *k) {
    k[0] = (uint32_t)seed;
    k[1] = (uint32_t)(seed >> 32);
    k[2] = (uint32_t)step;
    k[3] = net->stream_base | (uint32_t)rng_ordinal(net, i) << 8 | (uint32_t)stream << 4 |
           (uint32_t)(step >> 32) << 12;
}

/* The weight a Linear layer multiplies by (a new array with weight norm). */
static const double *linear_w(const gancl_net *net, int i, const double *params, double **owned) {
    const int p = net->layer_param[i];
    *owned = NULL;
    if (!net->layer[i].weight_norm) return tensor(net, params, p);
    const int OUT = net->layer[i].n, IN = (int)numel(input_of(net, i));
    *owned = alloc_d((size_t)OUT * IN);
    weightnorm_forward_ref(*owned, tensor(net, params, p + 1), tensor(net, params, p), OUT, IN);
    return *owned;
}

void gancl_net_ref_forward(gancl_net_ref *r, const gancl_net *net, const double *params, double *running,
                           const double *inp, const int *labels, int n, int training, uint64_t seed,
                           long step, int stream) {
    memset(r, 0, sizeof *r);
    r->net = net;
    r->n = n;
    r->x[0] = alloc_d((size_t)n * numel(net->in_shape));
    memcpy(r->x[0], inp, (size_t)n * numel(net->in_shape) * sizeof *inp);
    for (int i = 0; i < net->n_layers; i++) {
        const gancl_layer *L = &net->layer[i];
        const gancl_shape in = input_of(net, i);
        const size_t IN = numel(in), OUT = numel(net->layer_shape[i]), NI = (size_t)n * IN;
        double *x = r->x[i], *y = r->x[i + 1] = alloc_d((size_t)n * OUT), *owned;
        const int p = net->layer_param[i];
        uint32_t k[4];
        stream_of(net, i, seed, step, stream, k);
        switch (L->kind) {
        case GANCL_LINEAR: {
            const double *w = linear_w(net, i, params, &owned);
            const double *b = L->bias ? tensor(net, params, p + 1 + (L->weight_norm != 0)) : NULL;
            linear_forward_ref(y, x, w, b, n, (int)IN, L->n, GANCL_ACT_NONE, 0);
            free(owned);
            break;
        }
        case GANCL_CONV2D:
            conv2d_forward_ref(y, x, tensor(net, params, p), L->bias ? tensor(net, params, p + 1) : NULL,
                               geom_of(net, i), L->n, n);
            break;
        case GANCL_CONVT2D:
            convt2d_forward_ref(y, x, tensor(net, params, p), geom_of(net, i), in.c, n);
            break;
        case GANCL_BATCHNORM:
            r->bn_saved[i] = alloc_d(2 * (size_t)in.c);
            batchnorm_forward_ref(y, r->bn_saved[i], running + net->running.t[net->layer_running[i]].off, x, NULL,
                                  tensor(net, params, p), n, in.c, L->a, L->momentum, training,
                                  GANCL_ACT_NONE, 0, in.h * in.w);
            break;
        case GANCL_LEAKY_RELU:
            for (size_t j = 0; j < NI; j++) y[j] = gancl_act_ref(GANCL_ACT_LEAKY, x[j], L->a);
            break;
        case GANCL_RELU:
        case GANCL_TANH:
        case GANCL_SIGMOID:
        case GANCL_SOFTPLUS: {
            gancl_act a = L->kind == GANCL_RELU ? GANCL_ACT_RELU : L->kind == GANCL_TANH ? GANCL_ACT_TANH
                          : L->kind == GANCL_SIGMOID ? GANCL_ACT_SIGMOID : GANCL_ACT_SOFTPLUS;
            for (size_t j = 0; j < NI; j++) y[j] = gancl_act_ref(a, x[j], 0);
            break;
        }
        case GANCL_DROPOUT:
            for (size_t j = 0; j < NI; j++)
                y[j] = !training ? x[j]
                       : dropout_keep_ref(j, L->a, k[0], k[1], k[2], k[3]) ? x[j] / (1.0 - (double)L->a) : 0;
            break;
        case GANCL_NOISE:
            for (size_t j = 0; j < NI; j++)
                y[j] = x[j] + (training ? (double)L->a * noise_normal_ref(j, k[0], k[1], k[2], k[3]) : 0);
            break;
        case GANCL_RESHAPE: memcpy(y, x, NI * sizeof *x); break;
        case GANCL_MAXPOOL2D: maxpool_forward_ref(y, x, n, in.c, in.h, in.w, L->k); break;
        case GANCL_EMBED: {
            const double *t = tensor(net, params, p);
            for (int b = 0; b < n; b++) {
                memcpy(y + b * OUT, x + b * IN, IN * sizeof *x);
                for (int e = 0; e < L->n; e++) y[b * OUT + IN + e] = t[gancl_label_clamp(labels[b], L->classes) * L->n + e];
            }
            break;
        }
        case GANCL_PROJECTION:
            projection_forward_ref(y, x, tensor(net, params, p), tensor(net, params, p + 1), tensor(net, params, p + 2),
                                   labels, n, (int)IN, L->classes);
            break;
        default: gancl_die("net_ref: layer kind %d", (int)L->kind);
        }
    }
}

void gancl_net_ref_backward(gancl_net_ref *r, const double *params, double *dparams, const double *dout,
                            double *dinp, const int *labels, uint64_t seed, long step, int stream) {
    const gancl_net *net = r->net;
    const int n = r->n;
    double *g = alloc_d((size_t)n * numel(net->out_shape));
    memcpy(g, dout, (size_t)n * numel(net->out_shape) * sizeof *g);
    for (int i = net->n_layers - 1; i >= 0; i--) {
        const gancl_layer *L = &net->layer[i];
        const gancl_shape in = input_of(net, i);
        const size_t IN = numel(in), OUT = numel(net->layer_shape[i]), NI = (size_t)n * IN;
        const double *x = r->x[i], *y = r->x[i + 1];
        double *gin = alloc_d(NI), *owned;
        const int p = net->layer_param[i];
        double *dp = p >= 0 ? dparams + net->params.t[p].off : NULL;
        uint32_t k[4];
        stream_of(net, i, seed, step, stream, k);
        switch (L->kind) {
        case GANCL_LINEAR: {
            const double *w = linear_w(net, i, params, &owned);
            double *db = L->bias ? dparams + net->params.t[p + 1 + (L->weight_norm != 0)].off : NULL;
            double *dw = L->weight_norm ? alloc_d(OUT * IN) : dp;
            linear_backward_ref(gin, dw, db, g, y, x, w, n, (int)IN, L->n, GANCL_ACT_NONE, 0);
            if (L->weight_norm) {
                double *dg = L->weight_norm == GANCL_WN_TRAINED ? dparams + net->params.t[p + 1].off : NULL;
                weightnorm_backward_ref(dg, dp, dw, tensor(net, params, p + 1),
                                        tensor(net, params, p), L->n, (int)IN);
                free(dw);
            }
            free(owned);
            break;
        }
        case GANCL_CONV2D:
            conv2d_backward_ref(gin, dp, L->bias ? dparams + net->params.t[p + 1].off : NULL, g, x,
                                tensor(net, params, p), geom_of(net, i), L->n, n);
            break;
        case GANCL_CONVT2D:
            convt2d_backward_ref(gin, dp, g, x, tensor(net, params, p), geom_of(net, i), in.c, n);
            break;
        case GANCL_BATCHNORM:
            batchnorm_backward_ref(gin, dp, NULL, g, x, tensor(net, params, p), r->bn_saved[i], n, in.c,
                                   GANCL_ACT_NONE, 0, in.h * in.w);
            break;
        case GANCL_LEAKY_RELU:
        case GANCL_RELU:
        case GANCL_TANH:
        case GANCL_SIGMOID:
        case GANCL_SOFTPLUS: {
            gancl_act a = L->kind == GANCL_LEAKY_RELU ? GANCL_ACT_LEAKY : L->kind == GANCL_RELU ? GANCL_ACT_RELU
                          : L->kind == GANCL_TANH ? GANCL_ACT_TANH : L->kind == GANCL_SIGMOID ? GANCL_ACT_SIGMOID
                                                                                           : GANCL_ACT_SOFTPLUS;
            for (size_t j = 0; j < NI; j++) gin[j] = g[j] * gancl_act_grad_ref(a, y[j], L->a);
            break;
        }
        case GANCL_DROPOUT:
            for (size_t j = 0; j < NI; j++)
                gin[j] = dropout_keep_ref(j, L->a, k[0], k[1], k[2], k[3]) ? g[j] / (1.0 - (double)L->a) : 0;
            break;
        case GANCL_NOISE:
        case GANCL_RESHAPE: memcpy(gin, g, NI * sizeof *g); break;
        case GANCL_MAXPOOL2D: maxpool_backward_ref(gin, g, x, n, in.c, in.h, in.w, L->k); break;
        case GANCL_EMBED:
            for (int b = 0; b < n; b++) {
                memcpy(gin + b * IN, g + b * OUT, IN * sizeof *g);
                for (int e = 0; e < L->n; e++) dp[gancl_label_clamp(labels[b], L->classes) * L->n + e] += g[b * OUT + IN + e];
            }
            break;
        case GANCL_PROJECTION:
            projection_backward_ref(gin, dp, dparams + net->params.t[p + 1].off, dparams + net->params.t[p + 2].off, g,
                                    x, tensor(net, params, p), tensor(net, params, p + 2), labels, n, (int)IN,
                                    L->classes);
            break;
        default: gancl_die("net_ref: layer kind %d", (int)L->kind);
        }
        free(g);
        g = gin;
    }
    if (dinp) memcpy(dinp, g, (size_t)n * numel(net->in_shape) * sizeof *g);
    free(g);
}

void gancl_net_ref_free(gancl_net_ref *r) {
    for (int i = 0; i <= GANCL_MAX_LAYERS; i++) free(r->x[i]);
    for (int i = 0; i < GANCL_MAX_LAYERS; i++) free(r->bn_saved[i]);
    memset(r, 0, sizeof *r);
}
