/* net.c: the layer-sequence engine (see net.h): building a network from its list (validation,
 * parameter table, fusion into ops, slots), its device buffers and initial values, and the
 * forward, backward and tangent passes as loops over the ops. */
#include "gancl/net.h"
#include "gancl/selftest.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const gancl_ptr NONE = {NULL, 0};

/* ---- the table rows ---- */

static gancl_layer row(gancl_layer_kind kind) {
    gancl_layer l;
    memset(&l, 0, sizeof l);
    l.kind = kind;
    return l;
}

gancl_layer gancl_linear(int out, int bias) {
    gancl_layer l = row(GANCL_LINEAR);
    l.n = out;
    l.bias = bias;
    return l;
}

gancl_layer gancl_linear_wn(int out, int train_g) {
    gancl_layer l = gancl_linear(out, 1);
    l.weight_norm = train_g ? GANCL_WN_TRAINED : GANCL_WN_FIXED;
    return l;
}

gancl_layer gancl_conv2d(int out, int k, int stride, int pad, int bias) {
    gancl_layer l = row(GANCL_CONV2D);
    l.n = out, l.k = k, l.stride = stride, l.pad = pad, l.bias = bias;
    return l;
}

gancl_layer gancl_convt2d(int out, int k, int stride, int pad, int out_pad) {
    gancl_layer l = row(GANCL_CONVT2D);
    l.n = out, l.k = k, l.stride = stride, l.pad = pad, l.out_pad = out_pad;
    return l;
}

gancl_layer gancl_batchnorm(float eps, float momentum) {
    gancl_layer l = row(GANCL_BATCHNORM);
    l.a = eps;
    l.momentum = momentum;
    return l;
}

gancl_layer gancl_leaky_relu(float slope) {
    gancl_layer l = row(GANCL_LEAKY_RELU);
    l.a = slope;
    return l;
}

gancl_layer gancl_act_layer(gancl_layer_kind kind) { return row(kind); }

gancl_layer gancl_dropout(float p) {
    gancl_layer l = row(GANCL_DROPOUT);
    l.a = p;
    return l;
}

gancl_layer gancl_noise(float sigma) {
    gancl_layer l = row(GANCL_NOISE);
    l.a = sigma;
    return l;
}

gancl_layer gancl_flatten(void) { return row(GANCL_RESHAPE); }

gancl_layer gancl_unflatten(int c, int h, int w) {
    gancl_layer l = row(GANCL_RESHAPE);
    l.n = c, l.h = h, l.w = w;
    return l;
}

gancl_layer gancl_embed(int classes, int dim) {
    gancl_layer l = row(GANCL_EMBED);
    l.classes = classes;
    l.n = dim;
    return l;
}

gancl_layer gancl_maxpool2d(int k) {
    gancl_layer l = row(GANCL_MAXPOOL2D);
    l.k = k;
    return l;
}

gancl_layer gancl_projection(int classes) {
    gancl_layer l = row(GANCL_PROJECTION);
    l.classes = classes;
    return l;
}

const char *gancl_layer_kind_name(gancl_layer_kind kind) {
    static const char *names[GANCL_LAYER_KINDS] = {
        "Linear", "Conv2d", "ConvTranspose2d", "BatchNorm", "LeakyReLU", "ReLU", "Tanh",
        "Sigmoid", "Softplus", "Dropout", "GaussianNoise", "Reshape", "Embedding", "MaxPool2d", "Projection"};
    return (unsigned)kind < GANCL_LAYER_KINDS ? names[kind] : "unknown";
}

/* ---- building ---- */

static size_t numel(gancl_shape s) { return (size_t)s.c * s.h * s.w; }

static int act_of(gancl_layer_kind kind, gancl_act *act) {
    switch (kind) {
    case GANCL_LEAKY_RELU: *act = GANCL_ACT_LEAKY; return 1;
    case GANCL_RELU: *act = GANCL_ACT_RELU; return 1;
    case GANCL_TANH: *act = GANCL_ACT_TANH; return 1;
    case GANCL_SIGMOID: *act = GANCL_ACT_SIGMOID; return 1;
    case GANCL_SOFTPLUS: *act = GANCL_ACT_SOFTPLUS; return 1;
    default: return 0;
    }
}

static int table_add(gancl_param_table *t, const char *name, int ndim, const int *shape,
                     gancl_init init, float value) {
    if (t->n >= GANCL_MAX_TENSORS) return -1;
    gancl_tensor_info *ti = &t->t[t->n];
    memset(ti, 0, sizeof *ti);
    snprintf(ti->name, sizeof ti->name, "%s", name);
    ti->ndim = ndim;
    ti->numel = 1;
    for (int k = 0; k < ndim; k++) {
        ti->shape[k] = shape[k];
        ti->numel *= (size_t)shape[k];
    }
    ti->off = t->size;
    ti->init = init;
    ti->value = value;
    t->size += ti->numel;
    return t->n++;
}

typedef struct {
    gancl_net *net;
    int i;       /* the layer being built */
    char *err;
    int failed;
} builder;

static void bad(builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(builder *b, const char *fmt, ...) {
    if (b->failed) return;
    b->failed = 1;
    int n = snprintf(b->err, GANCL_ERR_LEN, "%s.%d (%s): ", b->net->prefix, b->i,
                     gancl_layer_kind_name(b->net->layer[b->i].kind));
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && n < GANCL_ERR_LEN) vsnprintf(b->err + n, GANCL_ERR_LEN - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Adds "<prefix>.<i>.<what>" to a table. */
static int add(builder *b, gancl_param_table *t, const char *what, int ndim, const int *shape,
               gancl_init init, float value) {
    char name[64];
    snprintf(name, sizeof name, "%s.%d.%s", b->net->prefix, b->i, what);
    int idx = table_add(t, name, ndim, shape, init, value);
    if (idx < 0) bad(b, "more than %d tensors in the network", GANCL_MAX_TENSORS);
    return idx;
}

/* Linear and Projection take flat rows; else a message. */
static int flat_input(builder *b, gancl_shape s) {
    if (s.h == 1 && s.w == 1) return 1;
    bad(b, "needs a flat input, not %dx%dx%d (put a Flatten before it)", s.c, s.h, s.w);
    return 0;
}

/* Layer i's output shape and parameters, from its input shape s. */
static gancl_shape layer_shape(builder *b, const gancl_layer *L, gancl_shape s) {
    gancl_net *net = b->net;
    net->layer_param[b->i] = -1;
    net->layer_running[b->i] = -1;
    const int C = s.c, H = s.h, W = s.w;
    switch (L->kind) {
    case GANCL_LINEAR: {
        if (!flat_input(b, s)) break;
        if (L->n <= 0) {
            bad(b, "%d output features", L->n);
            break;
        }
        const float bound = 1.0f / sqrtf((float)C);
        int shape[2] = {L->n, C}, gshape[2] = {L->n, 1};
        if (L->weight_norm) { /* v first: weight_g starts as the norms of v's rows */
            net->layer_param[b->i] = add(b, &net->params, "weight_v", 2, shape, GANCL_INIT_UNIFORM, bound);
            const int g = add(b, &net->params, "weight_g", 2, gshape, GANCL_INIT_ROW_NORM, 0);
            if (g >= 0) net->params.t[g].frozen = L->weight_norm == GANCL_WN_FIXED;
        } else {
            net->layer_param[b->i] = add(b, &net->params, "weight", 2, shape, GANCL_INIT_UNIFORM, bound);
        }
        if (L->bias) add(b, &net->params, "bias", 1, shape, GANCL_INIT_UNIFORM, bound);
        return (gancl_shape){L->n, 1, 1};
    }
    case GANCL_CONV2D:
    case GANCL_CONVT2D: {
        const int t = L->kind == GANCL_CONVT2D;
        if (L->n <= 0 || L->k <= 0 || L->stride <= 0 || L->pad < 0 || L->out_pad < 0) {
            bad(b, "channels %d, kernel %d, stride %d, padding %d, output padding %d", L->n, L->k,
                L->stride, L->pad, L->out_pad);
            break;
        }
        if (t && L->bias) {
            bad(b, "a bias is not supported here (the models use bias=False)");
            break;
        }
        if (t && L->out_pad >= L->stride) {
            bad(b, "output padding %d must be smaller than the stride %d", L->out_pad, L->stride);
            break;
        }
        int OH, OW;
        if (t) {
            OH = (H - 1) * L->stride - 2 * L->pad + L->k + L->out_pad;
            OW = (W - 1) * L->stride - 2 * L->pad + L->k + L->out_pad;
        } else {
            OH = H + 2 * L->pad >= L->k ? (H + 2 * L->pad - L->k) / L->stride + 1 : 0;
            OW = W + 2 * L->pad >= L->k ? (W + 2 * L->pad - L->k) / L->stride + 1 : 0;
        }
        if (OH <= 0 || OW <= 0) {
            bad(b, "a %dx%d kernel does not fit the %dx%dx%d input", L->k, L->k, C, H, W);
            break;
        }
        /* PyTorch's default: U(+-1/sqrt(fan_in)), fan_in = weight.size(1) * k * k */
        int shape[4] = {t ? C : L->n, t ? L->n : C, L->k, L->k};
        const float bound = 1.0f / sqrtf((float)shape[1] * L->k * L->k);
        net->layer_param[b->i] = add(b, &net->params, "weight", 4, shape, GANCL_INIT_UNIFORM, bound);
        if (L->bias) add(b, &net->params, "bias", 1, shape, GANCL_INIT_UNIFORM, bound);
        return (gancl_shape){L->n, OH, OW};
    }
    case GANCL_BATCHNORM: {
        if (!(L->a > 0) || !(L->momentum >= 0 && L->momentum <= 1)) {
            bad(b, "eps %g must be > 0 and momentum %g in [0, 1]", L->a, L->momentum);
            break;
        }
        net->layer_param[b->i] = add(b, &net->params, "weight", 1, &C, GANCL_INIT_CONST, 1.0f);
        add(b, &net->params, "bias", 1, &C, GANCL_INIT_CONST, 0.0f); /* after gamma: the kernels' gb */
        net->layer_running[b->i] = add(b, &net->running, "running_mean", 1, &C, GANCL_INIT_CONST, 0.0f);
        add(b, &net->running, "running_var", 1, &C, GANCL_INIT_CONST, 1.0f);
        return s;
    }
    case GANCL_LEAKY_RELU:
        if (!(L->a > 0)) bad(b, "negative slope %g must be > 0 (use ReLU for 0)", L->a);
        return s;
    case GANCL_RELU:
    case GANCL_TANH:
    case GANCL_SIGMOID:
    case GANCL_SOFTPLUS: return s;
    case GANCL_DROPOUT:
        if (!(L->a >= 0 && L->a < 1)) bad(b, "p = %g must be in [0, 1)", L->a);
        return s;
    case GANCL_NOISE:
        if (!(L->a >= 0 && L->a < 1e6f)) bad(b, "sigma = %g must be >= 0", L->a);
        return s;
    case GANCL_RESHAPE:
        if (L->n == 0) return (gancl_shape){C * H * W, 1, 1};
        if (L->n < 0 || L->h <= 0 || L->w <= 0 || (size_t)L->n * L->h * L->w != numel(s)) {
            bad(b, "%zu features cannot be viewed as %dx%dx%d", numel(s), L->n, L->h, L->w);
            break;
        }
        return (gancl_shape){L->n, L->h, L->w};
    case GANCL_MAXPOOL2D:
        if (L->k <= 0 || L->k > H || L->k > W) {
            bad(b, "a %dx%d window does not fit the %dx%dx%d input", L->k, L->k, C, H, W);
            break;
        }
        return (gancl_shape){C, H / L->k, W / L->k};
    case GANCL_EMBED: {
        if (L->classes <= 0 || L->n <= 0) {
            bad(b, "%d classes, dimension %d", L->classes, L->n);
            break;
        }
        int shape[2] = {L->classes, L->n};
        net->layer_param[b->i] = add(b, &net->params, "weight", 2, shape, GANCL_INIT_NORMAL, 1.0f);
        return (gancl_shape){C * H * W + L->n, 1, 1};
    }
    case GANCL_PROJECTION: {
        if (!flat_input(b, s)) break;
        if (L->classes <= 0) {
            bad(b, "%d classes", L->classes);
            break;
        }
        /* a module with two children, "linear" (PyTorch's Linear init) and "embed" (Xavier
         * uniform, as the projection discriminators' reference code initialises it) */
        const float bound = 1.0f / sqrtf((float)C), xavier = sqrtf(6.0f / (float)(L->classes + C));
        int shape[2] = {1, C}, eshape[2] = {L->classes, C};
        net->layer_param[b->i] = add(b, &net->params, "linear.weight", 2, shape, GANCL_INIT_UNIFORM, bound);
        add(b, &net->params, "linear.bias", 1, shape, GANCL_INIT_UNIFORM, bound);
        add(b, &net->params, "embed.weight", 2, eshape, GANCL_INIT_UNIFORM, xavier);
        return (gancl_shape){1, 1, 1};
    }
    default: {
        b->failed = 1;
        snprintf(b->err, GANCL_ERR_LEN, "%s.%d: unknown layer kind %d", net->prefix, b->i, (int)L->kind);
        break;
    }
    }
    return (gancl_shape){0, 0, 0};
}

/* What the backward pass reads from an activation's output: nothing, its sign, its value. */
static int need_of(gancl_act act) {
    return act == GANCL_ACT_NONE ? 0 : act == GANCL_ACT_LEAKY || act == GANCL_ACT_RELU ? 1 : 2;
}

/* A new activation slot (and, with new_g, a new gradient slot) of F features per row. */
static int new_slot(gancl_net *net, int F, int new_g, int g) {
    int x = net->n_x++;
    net->x_feat[x] = F;
    if (new_g) {
        g = net->n_g++;
        net->g_feat[g] = F;
    }
    net->x_slot_g[x] = g;
    return x;
}

/* The fuse step: layers into ops, with their slots. */
static void make_ops(builder *b) {
    gancl_net *net = b->net;
    int x = 0, rng = 0;
    int need[GANCL_MAX_SLOTS] = {0}; /* what a backward pass reads from a slot's values */
    net->n_x = net->n_g = 1;
    net->x_feat[0] = net->g_feat[0] = (int)numel(net->in_shape);
    net->x_slot_g[0] = 0;
    for (int i = 0; i < net->n_layers && !b->failed;) {
        b->i = i;
        const gancl_layer *L = &net->layer[i];
        const gancl_shape in = i ? net->layer_shape[i - 1] : net->in_shape, out = net->layer_shape[i];
        gancl_op o;
        memset(&o, 0, sizeof o);
        o.kind = L->kind;
        o.layer = i;
        o.x_in = x;
        o.g_in = net->x_slot_g[x];
        o.w = net->layer_param[i];
        o.b = o.wg = o.emb = o.run = o.pre_bias = -1;
        o.in_f = (int)numel(in);
        o.out_f = (int)numel(out);
        o.a = L->a;
        o.momentum = L->momentum;
        int next = i + 1, in_place = 0, new_g = 1;
        switch (L->kind) {
        case GANCL_LINEAR:
            if (L->weight_norm) o.wg = o.w + 1;
            if (L->bias) o.b = o.w + 1 + (L->weight_norm != 0);
            if (next < net->n_layers && act_of(net->layer[next].kind, &o.act)) o.a = net->layer[next++].a;
            if (next < net->n_layers && net->layer[next].kind == GANCL_BATCHNORM) {
                /* the bias and the activation move into the BatchNorm's launch */
                gancl_op bn = o;
                o.b = -1;
                o.act = GANCL_ACT_NONE;
                o.x_out = new_slot(net, o.out_f, 1, 0);
                o.g_out = net->x_slot_g[o.x_out];
                net->op[net->n_ops++] = o;
                const gancl_layer *N = &net->layer[next];
                bn.kind = GANCL_BATCHNORM;
                bn.layer = next;
                bn.x_in = o.x_out;
                bn.g_in = bn.g_out = o.g_out;
                bn.w = net->layer_param[next];
                bn.run = net->layer_running[next];
                bn.pre_bias = L->bias ? o.w + 1 + (L->weight_norm != 0) : -1;
                bn.b = bn.wg = -1;
                bn.ch = o.out_f;
                bn.S = 1;
                bn.in_f = o.out_f;
                bn.momentum = N->momentum;
                bn.x_out = new_slot(net, o.out_f, 0, bn.g_in);
                need[o.x_out] = 2; /* BatchNorm's backward reads its input */
                net->op[net->n_ops++] = bn;
                x = bn.x_out;
                i = next + 1;
                continue;
            }
            break;
        case GANCL_CONV2D:
            o.b = L->bias ? o.w + 1 : -1;
            o.conv_c = L->n;
            o.geom = gancl_conv_geom_make(in.c, in.h, in.w, L->k, L->stride, L->pad);
            break;
        case GANCL_CONVT2D:
            o.conv_c = in.c;
            o.geom = gancl_convt_geom_make(L->n, in.h, in.w, L->k, L->stride, L->pad, L->out_pad);
            break;
        case GANCL_BATCHNORM:
            o.run = net->layer_running[i];
            o.ch = in.c;
            o.S = in.h * in.w;
            new_g = x == 0; /* in place on the gradient, except at the network's input */
            break;
        case GANCL_EMBED:
            o.ch = L->classes;
            o.S = L->n;
            break;
        case GANCL_PROJECTION:
            o.b = o.w + 1;
            o.emb = o.w + 2;
            o.ch = L->classes;
            break;
        case GANCL_MAXPOOL2D:
            o.geom = gancl_conv_geom_make(in.c, in.h, in.w, L->k, L->k, 0);
            break;
        case GANCL_DROPOUT:
        case GANCL_NOISE:
            o.rng = rng++;
            /* never in place on the caller's input, nor over values a backward pass needs:
             * dropout keeps the sign a LeakyReLU's or ReLU's derivative is read from */
            in_place = x != 0 && (need[x] == 0 || (need[x] == 1 && L->kind == GANCL_DROPOUT));
            new_g = 0;
            break;
        case GANCL_RESHAPE: /* a view: no launch */
            i = next;
            continue;
        default:
            if (!act_of(L->kind, &o.act)) break;
            if (x == 0) {
                bad(b, "an activation cannot be the network's first layer");
                return;
            }
            /* an activation's derivative is read from its output: in place unless that
             * would overwrite values an earlier activation needs (a sign survives ReLUs) */
            in_place = need[x] == 0 || (need[x] == 1 && (o.act == GANCL_ACT_LEAKY || o.act == GANCL_ACT_RELU));
            new_g = 0;
            break;
        }
        o.x_out = in_place ? x : new_slot(net, o.out_f, new_g, o.g_in);
        o.g_out = net->x_slot_g[o.x_out];
        need[o.x_out] = in_place ? need[x] : 0;
        if (need_of(o.act) > need[o.x_out]) need[o.x_out] = need_of(o.act);
        net->op[net->n_ops++] = o;
        x = o.x_out;
        i = next;
    }
    if (!b->failed && net->n_ops == 0) {
        b->i = 0;
        bad(b, "the network computes nothing (only views)");
    }
}

int gancl_net_build(gancl_net *net, const char *prefix, gancl_shape input, const gancl_layer *layers,
                    int n, char *err) {
    memset(net, 0, sizeof *net);
    snprintf(net->prefix, sizeof net->prefix, "%s", prefix);
    if (n < 1 || n > GANCL_MAX_LAYERS) {
        snprintf(err, GANCL_ERR_LEN, "%s: %d layers (1 to %d)", prefix, n, GANCL_MAX_LAYERS);
        return -1;
    }
    if (input.c <= 0 || input.h <= 0 || input.w <= 0) {
        snprintf(err, GANCL_ERR_LEN, "%s: input shape %dx%dx%d", prefix, input.c, input.h, input.w);
        return -1;
    }
    memcpy(net->layer, layers, (size_t)n * sizeof *layers);
    net->n_layers = n;
    net->in_shape = input;
    builder b = {net, 0, err, 0};
    gancl_shape s = input;
    for (int i = 0; i < n && !b.failed; i++) {
        b.i = i;
        s = layer_shape(&b, &layers[i], s);
        if (!b.failed && numel(s) > (1u << 26)) bad(&b, "%zu features per row is too many", numel(s));
        net->layer_shape[i] = s;
    }
    if (!b.failed) make_ops(&b);
    if (b.failed) return -1;
    net->out_shape = s;
    net->stream_base = 0x60000u;
    return 0;
}

int gancl_net_tangent_ok(const gancl_net *net, char *err) {
    for (int i = 0; i < net->n_layers; i++) {
        gancl_layer_kind k = net->layer[i].kind;
        if (k == GANCL_MAXPOOL2D) {
            snprintf(err, GANCL_ERR_LEN, "%s.%d (MaxPool2d): not supported by the gradient penalty's tangent pass",
                     net->prefix, i);
            return -1;
        }
        if (k == GANCL_BATCHNORM || k == GANCL_TANH || k == GANCL_SIGMOID || k == GANCL_SOFTPLUS) {
            snprintf(err, GANCL_ERR_LEN, "%s.%d (%s): the gradient penalty's exact double backpropagation "
                     "needs a network that is piecewise linear in its input", net->prefix, i,
                     gancl_layer_kind_name(k));
            return -1;
        }
    }
    const gancl_op *last = &net->op[net->n_ops - 1];
    if ((last->kind != GANCL_LINEAR && last->kind != GANCL_CONV2D && last->kind != GANCL_PROJECTION) ||
        last->act != GANCL_ACT_NONE) {
        snprintf(err, GANCL_ERR_LEN, "%s: the gradient penalty needs a critic whose last layer is a "
                 "Linear, Conv2d or Projection without an activation", net->prefix);
        return -1;
    }
    return 0;
}

/* ---- buffers ---- */

static size_t aux_need(const gancl_op *o) {
    if (o->kind == GANCL_BATCHNORM) return 4 * (size_t)o->ch; /* saved mean, invstd; dgamma, dbeta scratch */
    if (o->kind == GANCL_LINEAR && o->wg >= 0) return 2 * (size_t)o->in_f * o->out_f + o->out_f;
    return 0;
}

static int output_slot(const gancl_net *net) { return net->op[net->n_ops - 1].x_out; }

void gancl_net_layout(gancl_net *net, int rows, int grad_rows, int tan_rows) {
    net->rows = rows;
    net->grad_rows = grad_rows;
    net->tan_rows = tan_rows;
    const int xo = output_slot(net), go = net->x_slot_g[xo];
    size_t o = 0;
    for (int s = 1; s < net->n_x; s++)
        if (s != xo) {
            net->x_off[s] = o;
            o += (size_t)rows * net->x_feat[s];
        }
    for (int g = 1; g < net->n_g; g++)
        if (g != go) {
            net->g_off[g] = o;
            o += (size_t)grad_rows * net->g_feat[g];
            net->t_off[g] = o;
            o += (size_t)tan_rows * net->g_feat[g];
        }
    for (int i = 0; i < net->n_ops; i++) {
        net->op[i].aux = o;
        o += aux_need(&net->op[i]);
    }
    net->acts_size = o;
    /* convolution scratch for `rows` rows: col [C*K*K, rows*P], tmp [channels, rows*P] */
    net->col_size = net->tmp_size = 0;
    for (int i = 0; i < net->n_ops; i++) {
        const gancl_op *op = &net->op[i];
        if (op->kind != GANCL_CONV2D && op->kind != GANCL_CONVT2D) continue;
        const gancl_conv_geom g = op->geom;
        const size_t P = (size_t)g.OH * g.OW * rows, col = (size_t)g.C * g.K * g.K * P, tmp = (size_t)op->conv_c * P;
        if (col > net->col_size) net->col_size = col;
        if (tmp > net->tmp_size) net->tmp_size = tmp;
    }
}

void gancl_net_alloc(gancl_net *net, const gancl_runtime *rt, int rows, int grad_rows, int tan_rows) {
    net->rt = rt;
    gancl_net_layout(net, rows, grad_rows, tan_rows);
    const size_t o = net->acts_size;
    net->acts = gancl_buffer(rt, (o ? o : 1) * sizeof(float));
    net->buf = gancl_buffer(rt, (net->params.size ? 4 * net->params.size : 1) * sizeof(float));
    net->running_buf = gancl_buffer(rt, (net->running.size ? net->running.size : 1) * sizeof(float));
    float zero = 0.0f;
    if (o) CL_CHECK(clEnqueueFillBuffer(rt->queue, net->acts, &zero, sizeof zero, 0, o * sizeof(float), 0, NULL, NULL));
}

void gancl_net_bind_scratch(gancl_net *net, gancl_ptr col, gancl_ptr tmp) {
    net->col = col;
    net->tmp = tmp;
}

void gancl_net_free(gancl_net *net) {
    cl_mem mems[] = {net->acts, net->buf, net->running_buf};
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (mems[i]) clReleaseMemObject(mems[i]);
    net->acts = net->buf = net->running_buf = NULL;
}

size_t gancl_net_device_bytes(const gancl_net *net) {
    return sizeof(float) * (net->acts_size + 4 * net->params.size + net->running.size);
}

static float normal_host(uint64_t *rng) {
    float u1 = gancl_uniform(rng, 0, 1), u2 = gancl_uniform(rng, 0, 1);
    if (u1 < 1e-30f) u1 = 1e-30f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

static void init_table(float *p, const gancl_param_table *t, uint64_t *rng) {
    for (int i = 0; i < t->n; i++) {
        const gancl_tensor_info *ti = &t->t[i];
        float *x = p + ti->off;
        if (ti->init == GANCL_INIT_ROW_NORM) { /* the previous tensor's rows */
            const gancl_tensor_info *v = &t->t[i - 1];
            const size_t cols = v->numel / ti->numel;
            for (size_t r = 0; r < ti->numel; r++) {
                double s = 0;
                for (size_t c = 0; c < cols; c++) s += (double)p[v->off + r * cols + c] * p[v->off + r * cols + c];
                x[r] = (float)sqrt(s);
            }
            continue;
        }
        for (size_t k = 0; k < ti->numel; k++)
            x[k] = ti->init == GANCL_INIT_UNIFORM ? gancl_uniform(rng, -ti->value, ti->value)
                   : ti->init == GANCL_INIT_NORMAL ? ti->value * normal_host(rng)
                                                   : ti->value;
    }
}

void gancl_net_init_host(const gancl_net *net, float *buf4, float *running, uint64_t *rng) {
    memset(buf4, 0, 4 * net->params.size * sizeof *buf4);
    init_table(buf4, &net->params, rng);
    if (running) init_table(running, &net->running, rng);
}

gancl_ptr gancl_net_param(const gancl_net *net, int i, int which) {
    gancl_ptr p = {net->buf, (size_t)which * net->params.size + net->params.t[i].off};
    return p;
}

/* ---- the passes ---- */

/* Where each slot of a pass is: activations x, gradients g (or tangents), at the pass's row. */
typedef struct {
    gancl_ptr x[GANCL_MAX_SLOTS], g[GANCL_MAX_SLOTS];
} view;

static gancl_ptr in_acts(const gancl_net *net, size_t off) {
    gancl_ptr p = {net->acts, off};
    return p;
}

/* tangent: g holds the tangents (rows from 0) instead of the gradients (rows from row0). */
static view make_view(const gancl_net *net, gancl_ptr out, gancl_ptr inp, gancl_ptr dout, gancl_ptr din,
                      int row0, int tangent) {
    view v;
    const int xo = output_slot(net), go = net->x_slot_g[xo];
    const size_t r0 = (size_t)row0;
    for (int s = 0; s < net->n_x; s++)
        v.x[s] = s == 0 ? inp : s == xo ? out : in_acts(net, net->x_off[s] + r0 * net->x_feat[s]);
    for (int g = 0; g < net->n_g; g++)
        v.g[g] = g == 0 ? din : g == go ? dout
                 : tangent ? in_acts(net, net->t_off[g])
                           : in_acts(net, net->g_off[g] + r0 * net->g_feat[g]);
    return v;
}

#define P(i) gancl_net_param(net, (i), 0)
#define D(i) gancl_net_param(net, (i), 1)
#define OPT(i) ((i) >= 0 ? P(i) : NONE)

/* The Philox stream of random layer `rng` (see net.h). */
static void masks(const gancl_net *net, int rng, uint32_t *k0, uint32_t *k1, uint32_t *c1, uint32_t *c2) {
    *k0 = (uint32_t)net->noise_seed;
    *k1 = (uint32_t)(net->noise_seed >> 32);
    *c1 = (uint32_t)net->noise_step;
    *c2 = net->stream_base | (uint32_t)rng << 8 | (uint32_t)net->noise_stream << 4 |
          (uint32_t)(net->noise_step >> 32) << 12;
}

static void apply_dropout(const gancl_net *net, const gancl_op *o, gancl_ptr y, gancl_ptr x, int row0, int n) {
    uint32_t k0, k1, c1, c2;
    masks(net, o->rng, &k0, &k1, &c1, &c2);
    const size_t F = (size_t)o->out_f;
    dropout_apply(net->rt, y, x, (size_t)n * F, (size_t)row0 * F, o->a, k0, k1, c1, c2);
}

/* A weight-normalised Linear's effective weight [out, in], computed by its forward pass. */
static gancl_ptr linear_weight(const gancl_net *net, const gancl_op *o) {
    return o->wg >= 0 ? in_acts(net, o->aux) : P(o->w);
}

static gancl_ptr label_ptr(const gancl_net *net, int row0) {
    if (!net->labels) gancl_die("%s: an Embedding layer needs labels, and none are bound", net->prefix);
    gancl_ptr p = {net->labels, (size_t)row0};
    return p;
}

static void copy_rows(const gancl_net *net, gancl_ptr dst, gancl_ptr src, size_t n) {
    if (dst.mem == src.mem && dst.off == src.off) return;
    CL_CHECK(clEnqueueCopyBuffer(net->rt->queue, src.mem, dst.mem, src.off * sizeof(float),
                                 dst.off * sizeof(float), n * sizeof(float), 0, NULL, NULL));
}

void gancl_net_forward(gancl_net *net, gancl_ptr out, gancl_ptr inp, int row0, int n, int training) {
    const gancl_runtime *rt = net->rt;
    view v = make_view(net, out, inp, NONE, NONE, row0, 0);
    gancl_ptr running = {net->running_buf, 0};
    for (int i = 0; i < net->n_ops; i++) {
        const gancl_op *o = &net->op[i];
        gancl_ptr x = v.x[o->x_in], y = v.x[o->x_out];
        switch (o->kind) {
        case GANCL_LINEAR: // y[n, out] = act(x[n, in] @ W^T + b); W = g v / ||v|| with weight norm
            if (o->wg >= 0)
                weightnorm_forward(rt, in_acts(net, o->aux), in_acts(net, o->aux + 2 * (size_t)o->in_f * o->out_f),
                                   P(o->wg), P(o->w), o->out_f, o->in_f);
            linear_forward(rt, y, x, linear_weight(net, o), OPT(o->b), n, o->in_f, o->out_f, o->act, o->a);
            break;
        case GANCL_CONV2D: // y[n, OC, OH, OW] = conv(x) + b
            conv2d_forward(rt, y, x, P(o->w), OPT(o->b), o->geom, o->conv_c, n, net->col, net->tmp);
            break;
        case GANCL_CONVT2D: // y[n, C, H, W] = conv_transpose(x)
            convt2d_forward(rt, y, x, P(o->w), o->geom, o->conv_c, n, net->col, net->tmp);
            break;
        case GANCL_BATCHNORM: // y = batchnorm(act(x + pre_bias)), x replaced by act(x + pre_bias)
            batchnorm_forward(rt, y, x, OPT(o->pre_bias), P(o->w), in_acts(net, o->aux),
                              gancl_at(running, net->running.t[o->run].off), n, o->ch,
                              net->layer[o->layer].a, o->momentum, training, o->act, o->a, o->S);
            break;
        case GANCL_DROPOUT: // y = x * mask / (1 - p), in place
            if (training) apply_dropout(net, o, y, x, row0, n);
            else copy_rows(net, y, x, (size_t)n * o->out_f);
            break;
        case GANCL_NOISE: { // y = x + sigma * N(0, 1), in place
            if (training) {
                uint32_t k0, k1, c1, c2;
                masks(net, o->rng, &k0, &k1, &c1, &c2);
                noise_apply(rt, y, x, (size_t)n * o->out_f, (size_t)row0 * o->out_f, o->a, k0, k1, c1, c2);
            } else {
                copy_rows(net, y, x, (size_t)n * o->out_f);
            }
            break;
        }
        case GANCL_MAXPOOL2D: // y[n, C, H/k, W/k] = window maxima
            maxpool_forward(rt, y, x, n, o->geom.C, o->geom.H, o->geom.W, o->geom.K);
            break;
        case GANCL_EMBED: // y[n, in + E] = [x, table[label]]
            embed_forward(rt, y, x, P(o->w), label_ptr(net, row0), n, o->in_f, o->S, o->ch);
            break;
        case GANCL_PROJECTION: // y[n, 1] = (w + table[label]) . x + b
            projection_forward(rt, y, x, P(o->w), P(o->b), P(o->emb), label_ptr(net, row0), n, o->in_f, o->ch);
            break;
        default: // an activation, in place (on a copy where it cannot be)
            copy_rows(net, y, x, (size_t)n * o->out_f);
            bias_act_forward(rt, y, NONE, n, o->out_f, o->act, o->a);
            break;
        }
    }
}

/* A weight-normalised Linear's dW [out, in] scratch, turned into dg and dv after each use. */
static gancl_ptr wn_dw(const gancl_net *net, const gancl_op *o, int zero) {
    gancl_ptr p = in_acts(net, o->aux + (size_t)o->in_f * o->out_f);
    if (zero) {
        float z = 0.0f;
        CL_CHECK(clEnqueueFillBuffer(net->rt->queue, p.mem, &z, sizeof z, p.off * sizeof(float),
                                     (size_t)o->in_f * o->out_f * sizeof(float), 0, NULL, NULL));
    }
    return p;
}

static void wn_backward(const gancl_net *net, const gancl_op *o) {
    const int train_g = net->layer[o->layer].weight_norm == GANCL_WN_TRAINED;
    weightnorm_backward(net->rt, train_g ? D(o->wg) : NONE, D(o->w), wn_dw(net, o, 0), P(o->wg), P(o->w),
                        in_acts(net, o->aux + 2 * (size_t)o->in_f * o->out_f), o->out_f, o->in_f);
}

/* The backward pass of one op; `gin` is where the input gradient goes (NONE: nowhere), `xin`
 * the op's input (the tangent in the tangent pass); biases only with dbias. */
static void op_backward(gancl_net *net, const gancl_op *o, gancl_ptr gin, gancl_ptr gout, gancl_ptr xin,
                        gancl_ptr xout, int row0, int n, int dweights, int dbias, int tangent) {
    const gancl_runtime *rt = net->rt;
    switch (o->kind) {
    case GANCL_LINEAR: {
        if (!gin.mem && !dweights) return;
        const int wn = o->wg >= 0 && dweights;
        gancl_ptr dw = !dweights ? NONE : wn ? wn_dw(net, o, 1) : D(o->w);
        linear_backward(rt, gin, dw, dbias && o->b >= 0 ? D(o->b) : NONE, gout, xout, xin,
                        linear_weight(net, o), n, o->in_f, o->out_f, o->act, o->a);
        if (wn) wn_backward(net, o);
        return;
    }
    case GANCL_CONV2D:
        if (!gin.mem && !dweights) return;
        conv2d_backward(rt, gin, dweights ? D(o->w) : NONE, dbias && o->b >= 0 ? D(o->b) : NONE, gout, xin,
                        P(o->w), o->geom, o->conv_c, n, net->col, net->tmp);
        return;
    case GANCL_CONVT2D:
        if (!gin.mem && !dweights) return;
        convt2d_backward(rt, gin, dweights ? D(o->w) : NONE, gout, xin, P(o->w), o->geom, o->conv_c, n,
                         net->col, net->tmp);
        return;
    case GANCL_BATCHNORM: {
        if (!gin.mem && !dweights && o->g_in != o->g_out) return;
        gancl_ptr dinp = o->g_in == o->g_out || !gin.mem ? gout : gin;
        gancl_ptr dgb = dweights ? D(o->w) : in_acts(net, o->aux + 2 * (size_t)o->ch);
        batchnorm_backward(rt, dinp, dgb, dweights && o->pre_bias >= 0 ? D(o->pre_bias) : NONE, gout, xin,
                           P(o->w), in_acts(net, o->aux), n, o->ch, o->act, o->a, o->S);
        return;
    }
    case GANCL_DROPOUT: // the forward pass's mask on the gradient; out of place at the input
        if (o->g_in == o->g_out && !gin.mem) return;
        apply_dropout(net, o, o->g_in == o->g_out ? gout : gin, gout, row0, n);
        return;
    case GANCL_NOISE: // additive: the gradient passes unchanged
        return;
    case GANCL_MAXPOOL2D:
        if (gin.mem) maxpool_backward(rt, gin, gout, xin, n, o->geom.C, o->geom.H, o->geom.W, o->geom.K);
        return;
    case GANCL_EMBED:
        if (!gin.mem && (!dweights || tangent)) return;
        embed_backward(rt, gin, dweights && !tangent ? D(o->w) : NONE, gout, label_ptr(net, row0), n, o->in_f,
                       o->S, o->ch);
        return;
    case GANCL_PROJECTION: // the embedding multiplies x: in the tangent pass it takes part too
        if (!gin.mem && !dweights) return;
        projection_backward(rt, gin, dweights ? D(o->w) : NONE, dweights && dbias ? D(o->b) : NONE,
                            dweights ? D(o->emb) : NONE, gout, xin, P(o->w), P(o->emb), label_ptr(net, row0), n,
                            o->in_f, o->ch);
        return;
    default: // an activation: gout *= act'(y)
        bias_act_backward(rt, gout, xout, NONE, n, o->out_f, o->act, o->a);
        return;
    }
}

void gancl_net_backward(gancl_net *net, gancl_ptr din, gancl_ptr dout, gancl_ptr out, gancl_ptr inp,
                        int row0, int n, int dweights) {
    view v = make_view(net, out, inp, dout, din, row0, 0);
    for (int i = net->n_ops - 1; i >= 0; i--) {
        const gancl_op *o = &net->op[i];
        op_backward(net, o, v.g[o->g_in], v.g[o->g_out], v.x[o->x_in], v.x[o->x_out], row0, n, dweights,
                    dweights, 0);
    }
}

/* The op whose output slot keeps layer `layer`'s output, or -1. */
static int feature_op(const gancl_net *net, int layer) {
    for (int i = 0; i + 1 < net->n_ops; i++) {
        const gancl_op *o = &net->op[i], *next = &net->op[i + 1];
        /* a Linear fused with its activation leaves the activation's output */
        const int fused_act = o->kind == GANCL_LINEAR && o->act != GANCL_ACT_NONE;
        const int covers = fused_act ? o->layer + 1 == layer : o->layer == layer;
        if (covers && next->layer > layer && next->x_out != o->x_out && next->kind != GANCL_BATCHNORM) return i;
    }
    return -1;
}

int gancl_net_feature(const gancl_net *net, int layer, int row0, gancl_ptr *x, gancl_ptr *g, char *err) {
    const int i = layer >= 0 && layer < net->n_layers ? feature_op(net, layer) : -1;
    if (i < 0) {
        snprintf(err, GANCL_ERR_LEN, "%s.%d: its output is not kept as a tensor of its own (the last layer, "
                 "fused into a later one, or overwritten in place)", net->prefix, layer);
        return -1;
    }
    const gancl_op *o = &net->op[i];
    const size_t F = (size_t)net->x_feat[o->x_out];
    *x = in_acts(net, net->x_off[o->x_out] + (size_t)row0 * F);
    *g = in_acts(net, net->g_off[o->g_out] + (size_t)row0 * F);
    return 0;
}

void gancl_net_backward_from(gancl_net *net, int layer, gancl_ptr din, gancl_ptr inp, int row0, int n,
                             int dweights) {
    const int top = feature_op(net, layer);
    if (top < 0) gancl_die("%s.%d: no backward pass from this layer (a bug)", net->prefix, layer);
    view v = make_view(net, NONE, inp, NONE, din, row0, 0);
    for (int i = top; i >= 0; i--) {
        const gancl_op *o = &net->op[i];
        op_backward(net, o, v.g[o->g_in], v.g[o->g_out], v.x[o->x_in], v.x[o->x_out], row0, n, dweights,
                    dweights, 0);
    }
}

/* One op of the tangent forward pass: t_out = J t_in at the primal masks, without biases. */
static void tangent_op(gancl_net *net, const view *v, const gancl_op *o, int row0, int n) {
    const gancl_runtime *rt = net->rt;
    gancl_ptr t = v->g[o->g_in], to = v->g[o->g_out], y = v->x[o->x_out];
    switch (o->kind) {
    case GANCL_LINEAR:
        linear_forward(rt, to, t, linear_weight(net, o), NONE, n, o->in_f, o->out_f, GANCL_ACT_NONE, 0.0f);
        bias_act_backward(rt, to, y, NONE, n, o->out_f, o->act, o->a);
        break;
    case GANCL_CONV2D:
        conv2d_forward(rt, to, t, P(o->w), NONE, o->geom, o->conv_c, n, net->col, net->tmp);
        break;
    case GANCL_CONVT2D:
        convt2d_forward(rt, to, t, P(o->w), o->geom, o->conv_c, n, net->col, net->tmp);
        break;
    case GANCL_DROPOUT:
        apply_dropout(net, o, to, t, row0, n);
        break;
    case GANCL_NOISE:
        break;
    case GANCL_EMBED: // the label's embedding does not move with x
        embed_forward(rt, to, t, NONE, label_ptr(net, row0), n, o->in_f, o->S, o->ch);
        break;
    case GANCL_PROJECTION:
        projection_forward(rt, to, t, P(o->w), NONE, P(o->emb), label_ptr(net, row0), n, o->in_f, o->ch);
        break;
    default:
        bias_act_backward(rt, to, y, NONE, n, o->out_f, o->act, o->a);
        break;
    }
}

static int elementwise(const gancl_op *o) {
    return o->kind != GANCL_LINEAR && o->kind != GANCL_CONV2D && o->kind != GANCL_CONVT2D &&
           o->kind != GANCL_BATCHNORM && o->kind != GANCL_EMBED && o->kind != GANCL_MAXPOOL2D &&
           o->kind != GANCL_PROJECTION;
}

void gancl_net_tangent(gancl_net *net, gancl_ptr ones, gancl_ptr out, gancl_ptr u, int row0, int n) {
    view v = make_view(net, out, NONE, ones, u, row0, 1);
    // tangent forward through all ops but the last. A run of element-wise ops (diagonal
    // Jacobians) is applied last to first, in the backward pass's order, so that both
    // passes multiply each element by the same factors in the same order
    for (int i = 0; i + 1 < net->n_ops;) {
        int j = i;
        while (j + 1 < net->n_ops && elementwise(&net->op[j])) j++;
        if (j == i) {
            tangent_op(net, &v, &net->op[i++], row0, n);
            continue;
        }
        for (int k = j - 1; k >= i; k--) tangent_op(net, &v, &net->op[k], row0, n);
        i = j;
    }
    // its backward: the tangents are overwritten by their gradients after their use as inputs
    for (int i = net->n_ops - 1; i >= 0; i--) {
        const gancl_op *o = &net->op[i];
        if (o->g_out == 0) continue; /* before the first weights: nothing left to reach */
        gancl_ptr tin = v.g[o->g_in], gin = o->g_in == 0 ? NONE : tin;
        op_backward(net, o, gin, v.g[o->g_out], tin, v.x[o->x_out], row0, n, 1, 0, 1);
    }
}
