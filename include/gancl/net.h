/* net.h: networks as data. A network is an ordered list of layers, as PyTorch's nn.Sequential.
 * From the list the engine derives everything else: the parameter table (state_dict names
 * "<prefix>.<position>.<name>" and PyTorch's shapes), the initialisation, the buffers for
 * activations, activation gradients, tangents and the scratch convolutions need, and the
 * launches of the three passes, each a loop over the list:
 *   forward   X[i+1] = layer_i(X[i])
 *   backward  in reverse: G[i] from G[i+1] (activation gradients written, parameter gradients
 *             accumulated)
 *   tangent   T[i+1] = J_i T[i], the forward-mode derivative at the primal pass's masks, then
 *             its backward: the exact double backpropagation of the gradient penalty
 *             (networks that are piecewise linear in their input only).
 * A fuse step, when the list is built, merges neighbours into one launch: Linear + its
 * activation; Linear's bias and the activation after it into a following BatchNorm.
 * Element-wise layers (activations, Dropout, GaussianNoise, Reshape) work in place.
 * Tensors are row-major [rows, C, H, W]; a flat tensor is [rows, F, 1, 1]. */
#ifndef GANCL_NET_H
#define GANCL_NET_H

#include "gancl/layers.h"

typedef enum {
    GANCL_LINEAR,     /* n = out features; bias; weight_norm (PyTorch's weight_g / weight_v) */
    GANCL_CONV2D,     /* n = out channels; k, stride, pad; bias */
    GANCL_CONVT2D,    /* n = out channels; k, stride, pad, out_pad; no bias */
    GANCL_BATCHNORM,  /* 1d on flat input, 2d on images; eps = a, PyTorch momentum */
    GANCL_LEAKY_RELU, /* slope = a */
    GANCL_RELU,
    GANCL_TANH,
    GANCL_SIGMOID,
    GANCL_SOFTPLUS,
    GANCL_DROPOUT,    /* p = a; training only; mask from Philox (seed, step, layer) */
    GANCL_NOISE,      /* GaussianNoise: x + a * N(0, 1); training only; recomputable like dropout */
    GANCL_RESHAPE,    /* Flatten (n = 0) or Unflatten to n x h x w */
    GANCL_EMBED,      /* Embedding(classes, n) of the row's label, concatenated to the input */
    GANCL_MAXPOOL2D,  /* k x k window, stride k, no padding */
    GANCL_PROJECTION, /* the projection discriminator's output: Linear(F, 1)(x) + Embedding(classes,
                         F)(label) . x (Miyato & Koyama 2018), on flat features */
    GANCL_LAYER_KINDS
} gancl_layer_kind;

enum { GANCL_WN_TRAINED = 1, GANCL_WN_FIXED = 2 };

typedef struct {
    gancl_layer_kind kind;
    int n;                        /* features or channels out (see the kinds) */
    int h, w;                     /* Unflatten */
    int k, stride, pad, out_pad;  /* convolutions */
    int bias, weight_norm;        /* Linear and Conv2d; weight_norm: 0, GANCL_WN_TRAINED or
                                     GANCL_WN_FIXED (g not trained) */
    int classes;                  /* Embedding, Projection */
    float a;                      /* slope, p, sigma or eps (see the kinds) */
    float momentum;               /* BatchNorm: PyTorch's (weight of the batch statistics) */
} gancl_layer;

/* The table rows: one constructor per kind. */
gancl_layer gancl_linear(int out, int bias);
/* Weight-normalised, with bias; train_g = 0 keeps the scale g where the initialisation put it
 * (its gradient is not taken: improved-gan's DenseLayer with train_scale=False). */
gancl_layer gancl_linear_wn(int out, int train_g);
gancl_layer gancl_conv2d(int out, int k, int stride, int pad, int bias);
gancl_layer gancl_convt2d(int out, int k, int stride, int pad, int out_pad);
gancl_layer gancl_batchnorm(float eps, float momentum);
gancl_layer gancl_leaky_relu(float slope);
gancl_layer gancl_act_layer(gancl_layer_kind kind); /* ReLU, Tanh, Sigmoid, Softplus */
gancl_layer gancl_dropout(float p);
gancl_layer gancl_noise(float sigma);
gancl_layer gancl_flatten(void);
gancl_layer gancl_unflatten(int c, int h, int w);
gancl_layer gancl_embed(int classes, int dim);
gancl_layer gancl_maxpool2d(int k);
gancl_layer gancl_projection(int classes);
/* PyTorch's class name of a kind ("Linear", "ConvTranspose2d", ...). */
const char *gancl_layer_kind_name(gancl_layer_kind kind);

#define GANCL_MAX_LAYERS 40
#define GANCL_MAX_TENSORS 48

typedef enum { GANCL_INIT_UNIFORM, GANCL_INIT_CONST, GANCL_INIT_NORMAL, GANCL_INIT_ROW_NORM } gancl_init;

/* One named tensor inside a flat buffer (checkpoint names follow PyTorch's state_dict). */
typedef struct {
    char name[64];
    int ndim;
    int shape[4];
    size_t off;   /* elements from the start of its buffer */
    size_t numel;
    gancl_init init; /* U(-value, value), the constant value, N(0, 1), or the norms of the */
    float value;     /* rows of the tensor before it (weight_g = ||weight_v||, as PyTorch) */
    int frozen;      /* not trained: its gradient stays 0 (a weight-norm scale GANCL_WN_FIXED) */
} gancl_tensor_info;

typedef struct {
    gancl_tensor_info t[GANCL_MAX_TENSORS];
    int n;
    size_t size; /* P: elements in total */
} gancl_param_table;

typedef struct {
    int c, h, w;
} gancl_shape;

/* One launch group after fusion (net.c). Slots: activation slots x (aliased by in-place
 * layers); gradient slots g, shared by a slot and the in-place layers after it (tangents use
 * the same numbering). Slot 0 is the network's input, x_out of the last op its output; both
 * are the caller's buffers. Parameter indices are -1 when absent. */
typedef struct {
    gancl_layer_kind kind;
    int layer;          /* list position of the op's main layer */
    int x_in, x_out, g_in, g_out;
    int w, b, wg;       /* weight (weight_v), bias, weight_g; BatchNorm: w = gamma (beta after) */
    int emb;            /* Projection: the class embedding (w, b: its Linear's) */
    int run;            /* BatchNorm: index of running_mean in the running table */
    int pre_bias;       /* BatchNorm: the Linear bias folded into it */
    gancl_act act;      /* Linear: after it; BatchNorm: before it (on bias + input); act ops */
    float a;            /* the activation's slope, dropout p, noise sigma or BatchNorm eps */
    float momentum;
    int in_f, out_f;    /* features per row in and out */
    int ch, S;          /* BatchNorm: channels and positions; Embedding: classes, dim in S;
                           Projection: classes */
    int rng;            /* Dropout / GaussianNoise: their ordinal among the random layers */
    gancl_conv_geom geom;
    int conv_c;         /* Conv2d: out channels; ConvTranspose2d: in channels */
    size_t aux;         /* offset in acts: BatchNorm's saved stats and dgamma scratch; weight
                           norm's weight [out, in], its gradient and the row norms */
} gancl_op;

#define GANCL_MAX_SLOTS (GANCL_MAX_LAYERS + 2)

typedef struct {
    const gancl_runtime *rt;
    char prefix[32];            /* "generator", "discriminator" */
    gancl_layer layer[GANCL_MAX_LAYERS];
    int n_layers;
    gancl_shape in_shape, out_shape;
    gancl_param_table params;   /* trained parameters: buf = params | grads | m | v */
    gancl_param_table running;  /* BatchNorm running mean and var, in `running` */
    gancl_op op[GANCL_MAX_LAYERS];
    int n_ops;
    int n_x, n_g;               /* slots */
    int x_feat[GANCL_MAX_SLOTS], g_feat[GANCL_MAX_SLOTS];
    int x_slot_g[GANCL_MAX_SLOTS]; /* the gradient slot of each activation slot */
    int rows, grad_rows, tan_rows; /* rows each kind of buffer holds */
    size_t x_off[GANCL_MAX_SLOTS], g_off[GANCL_MAX_SLOTS], t_off[GANCL_MAX_SLOTS];
    size_t acts_size, aux_size;
    size_t col_size, tmp_size;  /* the scratch its convolutions need, for `rows` rows */
    cl_mem buf, running_buf, acts;
    gancl_ptr col, tmp;         /* scratch, bound by the owner (networks may share it) */
    cl_mem labels;              /* Embedding: int labels, one per row, bound by the owner */
    long step;                  /* optimiser steps taken */
    uint64_t noise_seed;        /* Dropout and GaussianNoise masks: Philox key = seed, counter */
    long noise_step;            /* (element, step, stream_base | layer << 8 | stream << 4 | */
    int noise_stream;           /* step >> 32 << 12) */
    uint32_t stream_base;
    int layer_param[GANCL_MAX_LAYERS];   /* each layer's first tensor in params (-1: none) */
    int layer_running[GANCL_MAX_LAYERS]; /* BatchNorm: its running_mean in running */
    gancl_shape layer_shape[GANCL_MAX_LAYERS]; /* each layer's output shape */
} gancl_net;

/* Builds `net` from the list: validates it (a message naming the first bad layer, as
 * "generator.4 (ConvTranspose2d): ...", into err, and -1) and derives the tables and ops. */
int gancl_net_build(gancl_net *net, const char *prefix, gancl_shape input, const gancl_layer *layers,
                    int n, char *err);
/* Whether the tangent pass applies: the network is piecewise linear in its input and ends in
 * a Linear, Conv2d or Projection layer; else -1 and why. */
int gancl_net_tangent_ok(const gancl_net *net, char *err);
/* Device buffers: activations for `rows` rows, gradients for `grad_rows`, tangents for
 * `tan_rows` (0: none). Scratch must be bound (gancl_net_bind_scratch) before a pass runs. */
void gancl_net_alloc(gancl_net *net, const gancl_runtime *rt, int rows, int grad_rows, int tan_rows);
/* The offsets and sizes (acts_size, col_size, tmp_size) gancl_net_alloc uses, without device
 * work: to check a network fits the device before anything is allocated. */
void gancl_net_layout(gancl_net *net, int rows, int grad_rows, int tan_rows);
void gancl_net_bind_scratch(gancl_net *net, gancl_ptr col, gancl_ptr tmp);
void gancl_net_free(gancl_net *net);
size_t gancl_net_device_bytes(const gancl_net *net);
/* Host initial values of the parameters (4P: params, zero grads and moments) and running
 * statistics, drawing uniforms from *rng in table order. */
void gancl_net_init_host(const gancl_net *net, float *buf4, float *running, uint64_t *rng);

/* Parameter tensor i (which = 0 params, 1 grads, 2 m, 3 v). */
gancl_ptr gancl_net_param(const gancl_net *net, int i, int which);

/* The forward pass on rows [row0, row0 + n): inp [n, in], out [n, out] (the caller's, already
 * at row0). training: batch statistics (updated running ones), dropout and noise. */
void gancl_net_forward(gancl_net *net, gancl_ptr out, gancl_ptr inp, int row0, int n, int training);
/* The backward pass of the forward pass on the same rows: dout [n, out] is overwritten; din
 * [n, in] is written unless din.mem is NULL; parameter gradients accumulate when dweights
 * (else they are left alone). */
void gancl_net_backward(gancl_net *net, gancl_ptr din, gancl_ptr dout, gancl_ptr out, gancl_ptr inp,
                        int row0, int n, int dweights);
/* Objectives on inner features (feature matching): layer `layer`'s output after a forward
 * pass, rows from row0, in *x, and where its gradient goes, *g. -1 and a message when the
 * engine keeps no tensor of that output (the last layer, one fused into the next launch, or
 * one a later layer overwrites in place). */
int gancl_net_feature(const gancl_net *net, int layer, int row0, gancl_ptr *x, gancl_ptr *g, char *err);
/* The backward pass from that layer: its gradient [n, F], written into *g by the caller, is
 * overwritten; din and the parameter gradients as in gancl_net_backward. The layers after it
 * take no part. */
void gancl_net_backward_from(gancl_net *net, int layer, gancl_ptr din, gancl_ptr inp, int row0, int n,
                             int dweights);

/* The tangent pass for the gradient penalty, on rows [row0, row0 + n) of the last forward
 * pass (n <= tan_rows): the tangent t = J(x) u through every layer but the last, with the
 * primal pass's masks and no biases, then the backward pass of s = sum_rows w_r (J(x) u)_r
 * (w = `ones` [n], overwritten) through that linear chain: adds ds/dtheta to the weight
 * gradients (biases do not take part: ds/db = 0). u [n, in] is consumed; out is the primal
 * output. The network must pass gancl_net_tangent_ok. */
void gancl_net_tangent(gancl_net *net, gancl_ptr ones, gancl_ptr out, gancl_ptr u, int row0, int n);

/* ---- the C reference engine, in double, unfused: the same list through the *_ref layers ----
 * Parameters in the table's layout; running updated in training; labels per row. */
typedef struct {
    const gancl_net *net;
    int n;                     /* rows */
    double *x[GANCL_MAX_LAYERS + 1]; /* x[0] input, x[i + 1] the output of layer i [n, numel] */
    double *bn_saved[GANCL_MAX_LAYERS];
} gancl_net_ref;

void gancl_net_ref_forward(gancl_net_ref *r, const gancl_net *net, const double *params, double *running,
                           const double *inp, const int *labels, int n, int training, uint64_t seed,
                           long step, int stream);
/* dout [n, out] -> dinp [n, in] (may be NULL); dparams accumulated. */
void gancl_net_ref_backward(gancl_net_ref *r, const double *params, double *dparams, const double *dout,
                            double *dinp, const int *labels, uint64_t seed, long step, int stream);
void gancl_net_ref_free(gancl_net_ref *r);

#endif
