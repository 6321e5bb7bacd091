/* test_net.c: the layer-sequence engine (net.c). Networks built from random lists of layer
 * kinds (convolutions, transposed convolutions, BatchNorm, every activation, Dropout,
 * GaussianNoise, Flatten, the label Embedding, plain and weight-normalised Linear layers, the
 * projection discriminator's output) run
 * on the device, fused, against the unfused double-precision reference engine (net_ref.c):
 * forward outputs, running statistics, parameter and input gradients; the reference's
 * gradients against central finite differences; the tangent pass (the gradient penalty's)
 * on random piecewise-linear critics against finite differences. Tables that do not make a network are
 * rejected with a message naming the layer; the models' tables give PyTorch's names. */
#include "gancl/gan.h"
#include "gancl/selftest.h"
#include "testutil.h"

#include <math.h>

/* Whether parameter element k belongs to a tensor that is not trained. */
static int frozen_at(const gancl_net *net, size_t k) {
    for (int i = 0; i < net->params.n; i++)
        if (k >= net->params.t[i].off && k < net->params.t[i].off + net->params.t[i].numel) return net->params.t[i].frozen;
    return 0;
}

static gancl_device_info device;
static gancl_runtime rt;

enum { ROWS = 3, CLASSES = 3 };

static int pick(uint64_t *rng, int n) { return (int)(gancl_splitmix64(rng) % (uint64_t)n); }

static gancl_layer random_act(uint64_t *rng) {
    static const gancl_layer_kind kinds[] = {GANCL_RELU, GANCL_TANH, GANCL_SIGMOID, GANCL_SOFTPLUS};
    int k = pick(rng, 5);
    return k == 4 ? gancl_leaky_relu(0.2f) : gancl_act_layer(kinds[k]);
}

/* A random but valid list on a 2 x 6 x 6 input; *n layers. */
static void random_list(uint64_t *rng, gancl_layer *l, int *n) {
    int k = 0, h = 6;
    if (pick(rng, 3) == 0) l[k++] = pick(rng, 2) ? gancl_noise(0.5f) : gancl_dropout(0.25f); /* at the input */
    if (pick(rng, 3) == 0) { /* 6x6 -> 3x3 */
        l[k++] = gancl_maxpool2d(2);
        h = 3;
    }
    int blocks = pick(rng, 3);
    for (int b = 0; b < blocks; b++) {
        int pool = 0; /* the classifier's pattern: conv, (BatchNorm), activation, MaxPool */
        if (h == 6 || pick(rng, 2)) {
            pool = h == 6 && pick(rng, 2);
            l[k++] = gancl_conv2d(2 + pick(rng, 3), 3, h == 6 && !pool ? 2 : 1, 1, pick(rng, 2));
            if (h == 6) h = 3;
        } else {
            l[k++] = gancl_convt2d(2 + pick(rng, 2), 3, 2, 1, 1);
            h *= 2;
        }
        if (pick(rng, 2)) l[k++] = gancl_batchnorm(1e-3f, 0.1f);
        l[k++] = random_act(rng);
        if (pool) l[k++] = gancl_maxpool2d(2);
        int r = pick(rng, 3);
        if (r == 1) l[k++] = gancl_dropout(0.3f);
        if (r == 2) l[k++] = gancl_noise(0.3f);
    }
    l[k++] = gancl_flatten();
    if (pick(rng, 2)) l[k++] = gancl_embed(CLASSES, 2);
    int linears = 1 + pick(rng, 2);
    for (int i = 0; i < linears; i++) {
        int w = 3 + pick(rng, 4), bias = pick(rng, 2);
        l[k++] = pick(rng, 2) ? gancl_linear_wn(w, w % 2) : gancl_linear(w, bias);
        switch (pick(rng, 3)) {
        case 0: /* the MLP generator's pattern: activation, then BatchNorm (both fused) */
            l[k++] = random_act(rng);
            l[k++] = gancl_batchnorm(1e-3f, 0.2f);
            break;
        case 1: /* the DCGAN generator's: BatchNorm, then activation */
            l[k++] = gancl_batchnorm(1e-3f, 0.2f);
            l[k++] = random_act(rng);
            break;
        default: l[k++] = random_act(rng); break;
        }
        if (pick(rng, 3) == 0) l[k++] = gancl_dropout(0.2f);
    }
    const int r = pick(rng, 4);
    l[k++] = r == 0 ? gancl_projection(CLASSES) : r == 1 ? gancl_linear_wn(2, 1) : gancl_linear(2, 1);
    if (pick(rng, 2)) l[k++] = random_act(rng);
    *n = k;
}

static void describe(const gancl_net *net, char *out, size_t len) {
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < net->n_layers && k < len; i++) {
        const gancl_layer *L = &net->layer[i];
        k += (size_t)snprintf(out + k, len - k, "%s%s%s", i ? " " : "", gancl_layer_kind_name(L->kind),
                              L->weight_norm ? "(wn)" : "");
    }
}

static int close_enough(double got, double want, double atol, double rtol) {
    return fabs(got - want) <= atol + rtol * fabs(want);
}

static double weighted_sum(const gancl_net_ref *r, const double *w, size_t n_out) {
    double s = 0;
    for (size_t i = 0; i < n_out; i++) s += w[i] * r->x[r->net->n_layers][i];
    return s;
}

static const uint64_t SEED = 99;
static const long STEP = 5;

/* What a finite-difference objective reads: the network, its parameters and inputs. */
typedef struct {
    const gancl_net *net;
    double *p, *x;
    const double *run, *u, *w;
    const int *lab;
} fd_case;

typedef double (*fd_objective)(const fd_case *c);

/* The central difference of f in *v, which is restored. */
static double central(double *v, fd_objective f, const fd_case *c) {
    const double h = 1e-6, keep = *v;
    *v = keep + h;
    double up = f(c);
    *v = keep - h;
    double down = f(c);
    *v = keep;
    return (up - down) / (2 * h);
}

/* L = sum w * f(x) of the reference in training mode, parameters p. */
static double ref_loss(const fd_case *c) {
    const gancl_net *net = c->net;
    const double *p = c->p, *run0 = c->run, *x = c->x, *w = c->w;
    const int *lab = c->lab;
    double *run = malloc((net->running.size + 1) * sizeof *run);
    memcpy(run, run0, net->running.size * sizeof *run);
    gancl_net_ref r;
    gancl_net_ref_forward(&r, net, p, run, x, lab, ROWS, 1, SEED, STEP, 1);
    double s = weighted_sum(&r, w, (size_t)ROWS * net->out_shape.c * net->out_shape.h * net->out_shape.w);
    gancl_net_ref_free(&r);
    free(run);
    return s;
}

/* The network on the device: buffers for ROWS rows (and `tan` tangent rows), parameters
 * buf (4P), running statistics, labels and the masks' stream; returns its scratch buffer. */
static cl_mem on_device(gancl_net *net, const float *buf, const float *run, const int *lab, int tan) {
    gancl_net_alloc(net, &rt, ROWS, ROWS, tan);
    cl_mem scratch = gancl_buffer(&rt, (net->col_size + net->tmp_size + 1) * sizeof(float));
    gancl_ptr col = {scratch, 0}, tmp = {scratch, net->col_size};
    gancl_net_bind_scratch(net, col, tmp);
    net->labels = gancl_buffer(&rt, ROWS * sizeof *lab);
    gancl_write(&rt, net->labels, 0, ROWS * sizeof *lab, lab);
    net->noise_seed = SEED;
    net->noise_step = STEP;
    net->noise_stream = 1;
    gancl_write(&rt, net->buf, 0, 4 * net->params.size * sizeof *buf, buf);
    if (run && net->running.size) gancl_write(&rt, net->running_buf, 0, net->running.size * sizeof *run, run);
    return scratch;
}

static void off_device(gancl_net *net, cl_mem scratch) {
    clReleaseMemObject(scratch);
    clReleaseMemObject(net->labels);
    gancl_net_free(net);
}

static void random_net_case(uint64_t seed) {
    uint64_t rng = seed;
    gancl_layer layers[GANCL_MAX_LAYERS];
    int nl;
    random_list(&rng, layers, &nl);
    gancl_net net;
    char err[GANCL_ERR_LEN], desc[1024];
    const gancl_shape in = {2, 6, 6};
    if (gancl_net_build(&net, "net", in, layers, nl, err)) fail_msg("a valid random list was rejected: %s", err);
    describe(&net, desc, sizeof desc);
    const size_t NI = (size_t)ROWS * 72, NO = (size_t)ROWS * net.out_shape.c * net.out_shape.h * net.out_shape.w;
    const size_t P = net.params.size, R = net.running.size;

    /* parameters: the initialisation, moved off gamma 1 / beta 0 so every path matters */
    float *buf = calloc(4 * P + 1, sizeof *buf), *run = calloc(R + 1, sizeof *run);
    gancl_net_init_host(&net, buf, run, &rng);
    for (size_t i = 0; i < P; i++) buf[i] += gancl_uniform(&rng, -0.3f, 0.3f);
    double *p = calloc(P + 1, sizeof *p), *run_d = calloc(R + 1, sizeof *run_d);
    for (size_t i = 0; i < P; i++) p[i] = buf[i];
    for (size_t i = 0; i < R; i++) run_d[i] = run[i];
    float *xf = malloc(NI * sizeof *xf), *wf = malloc(NO * sizeof *wf);
    double *x = malloc(NI * sizeof *x), *w = malloc(NO * sizeof *w);
    for (size_t i = 0; i < NI; i++) x[i] = xf[i] = gancl_uniform(&rng, -1, 1);
    for (size_t i = 0; i < NO; i++) w[i] = wf[i] = gancl_uniform(&rng, -1, 1);
    int lab[ROWS];
    for (int b = 0; b < ROWS; b++) lab[b] = pick(&rng, CLASSES);

    /* ---- the device ---- */
    cl_mem scratch = on_device(&net, buf, run, lab, 0);
    cl_mem io = gancl_buffer(&rt, (2 * NI + 2 * NO) * sizeof(float));
    gancl_ptr inp = {io, 0}, din = {io, NI}, out = {io, 2 * NI}, dout = {io, 2 * NI + NO};
    gancl_write(&rt, io, 0, NI * sizeof *xf, xf);
    gancl_write(&rt, io, (2 * NI + NO) * sizeof(float), NO * sizeof *wf, wf);
    gancl_net_forward(&net, out, inp, 0, ROWS, 1);
    gancl_net_backward(&net, din, dout, out, inp, 0, ROWS, 1);
    float *outf = malloc(NO * sizeof *outf), *dinf = malloc(NI * sizeof *dinf), *grad = malloc((P + 1) * sizeof *grad);
    float *runf = malloc((R + 1) * sizeof *runf);
    gancl_read(&rt, io, 2 * NI * sizeof(float), NO * sizeof *outf, outf);
    gancl_read(&rt, io, NI * sizeof(float), NI * sizeof *dinf, dinf);
    gancl_read(&rt, net.buf, P * sizeof(float), P * sizeof *grad, grad);
    if (R) gancl_read(&rt, net.running_buf, 0, R * sizeof *runf, runf);

    /* ---- the reference ---- */
    gancl_net_ref r;
    double *run_ref = malloc((R + 1) * sizeof *run_ref), *dp = calloc(P + 1, sizeof *dp), *dx = calloc(NI, sizeof *dx);
    memcpy(run_ref, run_d, R * sizeof *run_ref);
    gancl_net_ref_forward(&r, &net, p, run_ref, x, lab, ROWS, 1, SEED, STEP, 1);
    for (size_t i = 0; i < NO; i++)
        if (!close_enough(outf[i], r.x[nl][i], 1e-4, 1e-3))
            fail_msg("[%s] output %zu: device %.7g, reference %.7g", desc, i, outf[i], r.x[nl][i]);
    for (size_t i = 0; i < R; i++)
        if (!close_enough(runf[i], run_ref[i], 1e-4, 1e-3))
            fail_msg("[%s] running statistic %zu: device %.7g, reference %.7g", desc, i, runf[i], run_ref[i]);
    gancl_net_ref_backward(&r, p, dp, w, dx, lab, SEED, STEP, 1);
    double worst = 0, worst_fd = 0;
    for (size_t i = 0; i < P; i++) {
        worst = fmax(worst, fabs(grad[i] - dp[i]));
        if (!close_enough(grad[i], dp[i], 1e-4, 2e-3))
            fail_msg("[%s] dparam[%zu] (%s...): device %.7g, reference %.7g", desc, i, net.params.t[0].name, grad[i], dp[i]);
    }
    for (size_t i = 0; i < NI; i++)
        if (!close_enough(dinf[i], dx[i], 1e-4, 2e-3))
            fail_msg("[%s] dinput[%zu]: device %.7g, reference %.7g", desc, i, dinf[i], dx[i]);
    gancl_net_ref_free(&r);

    /* ---- the reference's gradients against central finite differences (a frozen tensor's
     * gradient is 0 instead, on the device and in the reference) ---- */
    const fd_case fc = {&net, p, x, run_d, NULL, w, lab};
    for (size_t k = 0; k < P; k++)
        if (frozen_at(&net, k) && (grad[k] != 0 || dp[k] != 0))
            fail_msg("[%s] dparam[%zu] of a frozen tensor: device %.7g, reference %.7g", desc, k, grad[k], dp[k]);
    for (size_t k = 0; k < P; k += P > 120 ? 1 + P / 120 : 1) {
        if (frozen_at(&net, k)) continue;
        double fd = central(&p[k], ref_loss, &fc);
        worst_fd = fmax(worst_fd, fabs(fd - dp[k]));
        if (!close_enough(dp[k], fd, 1e-6, 1e-4))
            fail_msg("[%s] reference dparam[%zu]: %.9g, finite differences %.9g", desc, k, dp[k], fd);
    }
    for (size_t k = 0; k < NI; k += 5) {
        double fd = central(&x[k], ref_loss, &fc);
        if (!close_enough(dx[k], fd, 1e-6, 1e-4))
            fail_msg("[%s] reference dinput[%zu]: %.9g, finite differences %.9g", desc, k, dx[k], fd);
    }
    print_message("[%s]: %d ops from %d layers, %zu parameters; max |device - reference| gradient %.2g, "
                  "max |reference - finite difference| %.2g\n", desc, net.n_ops, nl, P, worst, worst_fd);
    clReleaseMemObject(io);
    off_device(&net, scratch);
    free(buf); free(run); free(p); free(run_d); free(xf); free(wf); free(x); free(w); free(outf); free(dinf);
    free(grad); free(runf); free(run_ref); free(dp); free(dx);
}

static void test_random_networks(void **state) {
    (void)state;
    for (uint64_t s = 1; s <= 12; s++) random_net_case(s * 7919);
}

/* The same networks with the other shape of the kernels that have two (rt.gpu_shaped: the
 * GPU-shaped ones on a CPU, the CPU-shaped ones on a GPU) */
static void test_random_networks_other_reductions(void **state) {
    (void)state;
    rt.gpu_shaped = !rt.gpu_shaped;
    for (uint64_t s = 1; s <= 12; s += 3) random_net_case(s * 7919);
    rt.gpu_shaped = !rt.gpu_shaped;
}

/* A random critic that is piecewise linear in its input (what the tangent pass is for). */
static void random_critic(uint64_t *rng, gancl_layer *l, int *n) {
    int k = 0;
    if (pick(rng, 3) == 0) l[k++] = pick(rng, 2) ? gancl_noise(0.5f) : gancl_dropout(0.25f);
    if (pick(rng, 2)) {
        l[k++] = gancl_conv2d(2 + pick(rng, 3), 3, 2, 1, pick(rng, 2));
        l[k++] = pick(rng, 2) ? gancl_leaky_relu(0.3f) : gancl_act_layer(GANCL_RELU);
        if (pick(rng, 2)) l[k++] = gancl_dropout(0.3f);
        if (pick(rng, 2)) l[k++] = gancl_convt2d(2, 3, 2, 1, 1);
    }
    l[k++] = gancl_flatten();
    if (pick(rng, 2)) l[k++] = gancl_embed(CLASSES, 2);
    l[k++] = pick(rng, 2) ? gancl_linear_wn(3 + pick(rng, 4), 0) : gancl_linear(3 + pick(rng, 4), 1);
    l[k++] = gancl_leaky_relu(0.2f);
    if (pick(rng, 2)) l[k++] = gancl_noise(0.2f);
    const int r = pick(rng, 3);
    l[k++] = r == 0 ? gancl_projection(CLASSES) : r == 1 ? gancl_linear_wn(1, 0) : gancl_linear(1, 1);
    *n = k;
}

/* s(theta) = <u, grad_x sum_r w_r f_r(x)>, from the reference's backward pass. */
static double tangent_objective(const fd_case *c) {
    const gancl_net *net = c->net;
    const double *p = c->p, *x = c->x, *u = c->u, *w = c->w;
    const int *lab = c->lab;
    const size_t NI = (size_t)ROWS * 72;
    double *dx = calloc(NI, sizeof *dx), *dp = calloc(net->params.size + 1, sizeof *dp), s = 0;
    gancl_net_ref r;
    gancl_net_ref_forward(&r, net, p, NULL, x, lab, ROWS, 1, SEED, STEP, 1);
    gancl_net_ref_backward(&r, p, dp, w, dx, lab, SEED, STEP, 1);
    for (size_t i = 0; i < NI; i++) s += u[i] * dx[i];
    gancl_net_ref_free(&r);
    free(dx);
    free(dp);
    return s;
}

/* gancl_net_tangent's weight gradients against central finite differences of s(theta). */
static void tangent_case(uint64_t seed) {
    uint64_t rng = seed;
    gancl_layer layers[GANCL_MAX_LAYERS];
    int nl;
    random_critic(&rng, layers, &nl);
    gancl_net net;
    char err[GANCL_ERR_LEN], desc[1024];
    const gancl_shape in = {2, 6, 6};
    if (gancl_net_build(&net, "critic", in, layers, nl, err)) fail_msg("%s", err);
    if (gancl_net_tangent_ok(&net, err)) fail_msg("%s", err);
    describe(&net, desc, sizeof desc);
    const size_t NI = (size_t)ROWS * 72, P = net.params.size;
    float *buf = calloc(4 * P + 1, sizeof *buf);
    gancl_net_init_host(&net, buf, NULL, &rng);
    for (size_t i = 0; i < P; i++) buf[i] += gancl_uniform(&rng, -0.3f, 0.3f);
    double *p = calloc(P + 1, sizeof *p), *x = malloc(NI * sizeof *x), *u = malloc(NI * sizeof *u), w[ROWS];
    float *xf = malloc(NI * sizeof *xf), *uf = malloc(NI * sizeof *uf), wf[ROWS];
    for (size_t i = 0; i < P; i++) p[i] = buf[i];
    for (size_t i = 0; i < NI; i++) x[i] = xf[i] = gancl_uniform(&rng, -1, 1);
    for (size_t i = 0; i < NI; i++) u[i] = uf[i] = gancl_uniform(&rng, -1, 1);
    for (int i = 0; i < ROWS; i++) w[i] = wf[i] = gancl_uniform(&rng, 0.5f, 1.5f);
    int lab[ROWS];
    for (int b = 0; b < ROWS; b++) lab[b] = pick(&rng, CLASSES);
    cl_mem scratch = on_device(&net, buf, NULL, lab, ROWS);
    cl_mem io = gancl_buffer(&rt, (2 * NI + 2 * ROWS) * sizeof(float));
    gancl_ptr inp = {io, 0}, pu = {io, NI}, out = {io, 2 * NI}, ones = {io, 2 * NI + ROWS};
    gancl_write(&rt, io, 0, NI * sizeof *xf, xf);
    gancl_write(&rt, io, NI * sizeof(float), NI * sizeof *uf, uf);
    gancl_write(&rt, io, (2 * NI + ROWS) * sizeof(float), sizeof wf, wf);
    gancl_net_forward(&net, out, inp, 0, ROWS, 1);
    gancl_net_tangent(&net, ones, out, pu, 0, ROWS);
    float *grad = malloc((P + 1) * sizeof *grad);
    gancl_read(&rt, net.buf, P * sizeof(float), P * sizeof *grad, grad);
    double worst = 0;
    const fd_case fc = {&net, p, x, NULL, u, w, lab};
    for (size_t k = 0; k < P; k++) {
        if (frozen_at(&net, k)) {
            if (grad[k] != 0) fail_msg("[%s] d<u, grad_x>/dparam[%zu] of a frozen tensor: %.7g", desc, k, grad[k]);
            continue;
        }
        double fd = central(&p[k], tangent_objective, &fc);
        worst = fmax(worst, fabs(fd - grad[k]));
        if (!close_enough(grad[k], fd, 1e-4, 2e-3))
            fail_msg("[%s] d<u, grad_x>/dparam[%zu]: device %.7g, finite differences %.7g", desc, k, grad[k], fd);
    }
    print_message("[%s]: tangent pass, %zu parameters; max |device - finite difference| %.2g\n", desc, P, worst);
    clReleaseMemObject(io);
    off_device(&net, scratch);
    free(buf); free(p); free(x); free(u); free(xf); free(uf); free(grad);
}

static void test_tangent_pass(void **state) {
    (void)state;
    for (uint64_t s = 1; s <= 8; s++) tangent_case(s * 104729);
}

/* Every kind appears among the random lists above (so none goes untested). */
/* The backward pass from an inner layer (feature matching's): a D shaped like the ssgan's, its
 * last ReLU's output and the backward pass from there against the reference engine on the
 * list cut after that layer (same parameters: a prefix of the table); the layers after it
 * keep zero gradients. */
static void test_backward_from_inner_layer(void **state) {
    (void)state;
    const gancl_layer l[] = {gancl_noise(0.3f), gancl_linear_wn(7, 0), gancl_act_layer(GANCL_RELU), gancl_noise(0.5f),
                             gancl_linear(6, 1), gancl_act_layer(GANCL_RELU), gancl_noise(0.5f),
                             gancl_linear_wn(4, 1)};
    enum { FL = 5, F = 6, IN = 9 };
    const gancl_shape in = {IN, 1, 1};
    gancl_net net, cut;
    char err[GANCL_ERR_LEN];
    if (gancl_net_build(&net, "d", in, l, 8, err) || gancl_net_build(&cut, "d", in, l, FL + 1, err)) fail_msg("%s", err);
    assert_int_equal(cut.params.t[cut.params.n - 1].off + cut.params.t[cut.params.n - 1].numel, cut.params.size);
    gancl_ptr fx, fg;
    assert_int_equal(gancl_net_feature(&net, 7, 0, &fx, &fg, err), -1); /* the output layer: no */
    assert_int_equal(gancl_net_feature(&net, 4, 0, &fx, &fg, err), -1); /* fused with its ReLU: no */
    const size_t P = net.params.size, PC = cut.params.size, NI = (size_t)ROWS * IN, NF = (size_t)ROWS * F;
    uint64_t rng = 77;
    float *buf = calloc(4 * P, sizeof *buf);
    gancl_net_init_host(&net, buf, NULL, &rng);
    double *p = calloc(P, sizeof *p), *x = malloc(NI * sizeof *x), *g = malloc(NF * sizeof *g);
    float *xf = malloc(NI * sizeof *xf), *gf = malloc(NF * sizeof *gf);
    for (size_t i = 0; i < P; i++) p[i] = buf[i];
    for (size_t i = 0; i < NI; i++) x[i] = xf[i] = gancl_uniform(&rng, 0, 1);
    for (size_t i = 0; i < NF; i++) g[i] = gf[i] = gancl_uniform(&rng, -1, 1);
    int lab[ROWS] = {0};
    cl_mem scratch = on_device(&net, buf, NULL, lab, 0);
    cl_mem io = gancl_buffer(&rt, (2 * NI + (size_t)ROWS * 4) * sizeof(float));
    gancl_ptr inp = {io, 0}, din = {io, NI}, out = {io, 2 * NI};
    gancl_write(&rt, io, 0, NI * sizeof *xf, xf);
    gancl_net_forward(&net, out, inp, 0, ROWS, 1);
    if (gancl_net_feature(&net, FL, 0, &fx, &fg, err)) fail_msg("%s", err);
    float *feat = malloc(NF * sizeof *feat), *grad = malloc(P * sizeof *grad), *dinf = malloc(NI * sizeof *dinf);
    gancl_read(&rt, fx.mem, fx.off * sizeof(float), NF * sizeof *feat, feat);
    gancl_write(&rt, fg.mem, fg.off * sizeof(float), NF * sizeof *gf, gf);
    gancl_net_backward_from(&net, FL, din, inp, 0, ROWS, 1);
    gancl_read(&rt, net.buf, P * sizeof(float), P * sizeof *grad, grad);
    gancl_read(&rt, io, NI * sizeof(float), NI * sizeof *dinf, dinf);
    gancl_net_ref r;
    double *dp = calloc(PC, sizeof *dp), *dx = calloc(NI, sizeof *dx);
    gancl_net_ref_forward(&r, &cut, p, NULL, x, NULL, ROWS, 1, SEED, STEP, 1);
    for (size_t i = 0; i < NF; i++)
        if (!close_enough(feat[i], r.x[FL + 1][i], 1e-5, 1e-5)) fail_msg("feature %zu: %.7g, reference %.7g", i, feat[i], r.x[FL + 1][i]);
    gancl_net_ref_backward(&r, p, dp, g, dx, NULL, SEED, STEP, 1);
    for (size_t i = 0; i < P; i++) {
        const double want = i < PC ? dp[i] : 0;
        if (!close_enough(grad[i], want, 1e-5, 1e-4)) fail_msg("dparam %zu: %.7g, reference %.7g", i, grad[i], want);
    }
    for (size_t i = 0; i < NI; i++)
        if (!close_enough(dinf[i], dx[i], 1e-5, 1e-4)) fail_msg("dinput %zu: %.7g, reference %.7g", i, dinf[i], dx[i]);
    gancl_net_ref_free(&r);
    clReleaseMemObject(io);
    off_device(&net, scratch);
    free(buf); free(p); free(x); free(g); free(xf); free(gf); free(feat); free(grad); free(dinf); free(dp); free(dx);
}

static void test_random_lists_cover_every_kind(void **state) {
    (void)state;
    int seen[GANCL_LAYER_KINDS] = {0}, wn = 0;
    for (uint64_t s = 1; s <= 12; s++) {
        uint64_t rng = s * 7919;
        gancl_layer l[GANCL_MAX_LAYERS];
        int n;
        random_list(&rng, l, &n);
        for (int i = 0; i < n; i++) {
            seen[l[i].kind] = 1;
            wn |= l[i].weight_norm;
        }
    }
    for (int k = 0; k < GANCL_LAYER_KINDS; k++)
        if (!seen[k]) fail_msg("no random list has a %s layer", gancl_layer_kind_name((gancl_layer_kind)k));
    assert_true(wn);
}

static void expect_rejected(const gancl_layer *l, int n, gancl_shape in, const char *want) {
    gancl_net net;
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_net_build(&net, "generator", in, l, n, err), -1);
    if (!strstr(err, want)) fail_msg("message '%s' lacks '%s'", err, want);
}

static void test_bad_tables_rejected(void **state) {
    (void)state;
    const gancl_shape flat = {10, 1, 1}, img = {1, 28, 28};
    gancl_layer unknown[2] = {gancl_linear(4, 1), gancl_linear(2, 1)};
    unknown[1].kind = (gancl_layer_kind)99;
    expect_rejected(unknown, 2, flat, "generator.1: unknown layer kind 99");
    gancl_layer no_flatten[2] = {gancl_conv2d(4, 5, 2, 2, 1), gancl_linear(1, 1)};
    expect_rejected(no_flatten, 2, img, "generator.1 (Linear): needs a flat input, not 4x14x14");
    gancl_layer bad_view[2] = {gancl_linear(100, 1), gancl_unflatten(4, 7, 7)};
    expect_rejected(bad_view, 2, flat, "generator.1 (Reshape): 100 features cannot be viewed as 4x7x7");
    gancl_layer big_kernel[1] = {gancl_conv2d(2, 31, 1, 1, 1)};
    expect_rejected(big_kernel, 1, img, "generator.0 (Conv2d): a 31x31 kernel does not fit");
    gancl_layer out_pad[1] = {gancl_convt2d(2, 5, 2, 2, 2)};
    expect_rejected(out_pad, 1, img, "generator.0 (ConvTranspose2d): output padding 2 must be smaller");
    gancl_layer act_first[2] = {gancl_act_layer(GANCL_TANH), gancl_linear(2, 1)};
    expect_rejected(act_first, 2, flat, "generator.0 (Tanh): an activation cannot be the network's first layer");
    gancl_layer zero_width[1] = {gancl_linear(0, 1)};
    expect_rejected(zero_width, 1, flat, "generator.0 (Linear): 0 output features");
    gancl_layer bad_p[2] = {gancl_linear(3, 1), gancl_dropout(1.5f)};
    expect_rejected(bad_p, 2, flat, "generator.1 (Dropout): p = 1.5");
    /* the command line's widths go through the same check */
    gancl_arch a = gancl_arch_default(GANCL_MODEL_DCGAN, 100);
    a.ng = 2;
    gancl_net g, d;
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_model_build(&a, &g, &d, err), -1);
    assert_non_null(strstr(err, "the DCGAN takes 3 and 2 channel counts"));
    int w[GANCL_MAX_WIDTHS], n;
    assert_int_equal(gancl_widths_parse("256,,512", w, &n, err), -1);
    assert_int_equal(gancl_widths_parse("256,512,", w, &n, err), -1);
    assert_int_equal(gancl_widths_parse("0", w, &n, err), -1);
    assert_int_equal(gancl_widths_parse("128,64", w, &n, err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(w[1], 64);
}

/* The tables give the state_dict of the equivalent nn.Sequential, and the fuse step the
 * launch groups the hand-written models had. */
static void test_model_tables(void **state) {
    (void)state;
    gancl_net g, d;
    char err[GANCL_ERR_LEN];
    gancl_arch a = gancl_arch_default(GANCL_MODEL_MLP, 100);
    assert_int_equal(gancl_model_build(&a, &g, &d, err), 0);
    const char *gn[] = {"generator.0.weight", "generator.0.bias", "generator.2.weight", "generator.2.bias",
                        "generator.3.weight", "generator.9.weight", "generator.9.bias"};
    const int gi[] = {0, 1, 2, 3, 4, 12, 13};
    for (int i = 0; i < 7; i++) assert_string_equal(g.params.t[gi[i]].name, gn[i]);
    assert_int_equal(g.params.n, 14);
    assert_string_equal(g.running.t[5].name, "generator.8.running_var");
    assert_string_equal(d.params.t[5].name, "discriminator.4.bias");
    assert_int_equal(g.params.t[12].shape[0], 784);
    assert_int_equal(g.params.t[12].shape[1], 1024);
    assert_int_equal(g.n_ops, 7); /* 3 x (Linear, BatchNorm with bias + LeakyReLU), Linear + tanh */
    assert_int_equal(d.n_ops, 3); /* Linear + LeakyReLU, twice, then Linear */
    a = gancl_arch_default(GANCL_MODEL_DCGAN, 100);
    assert_int_equal(gancl_model_build(&a, &g, &d, err), 0);
    assert_string_equal(g.params.t[3].name, "generator.4.weight");
    assert_int_equal(g.params.t[3].shape[0], 256); /* ConvTranspose2d: [in, out, k, k] */
    assert_int_equal(g.params.t[3].shape[1], 128);
    assert_string_equal(g.params.t[9].name, "generator.10.weight");
    assert_string_equal(d.params.t[2].name, "discriminator.3.weight");
    assert_string_equal(d.params.t[4].name, "discriminator.7.weight");
    assert_int_equal(d.params.t[4].shape[1], 128 * 49);
    char why[GANCL_ERR_LEN];
    assert_int_equal(gancl_net_tangent_ok(&d, why), 0);
    assert_int_equal(gancl_net_tangent_ok(&g, why), -1); /* BatchNorm and tanh */
    /* the projection discriminators: the class enters at the end, under the module's children */
    for (int dc = 0; dc < 2; dc++) {
        a = gancl_arch_default(dc ? GANCL_MODEL_DCGAN : GANCL_MODEL_MLP, 100);
        gancl_arch_conditional(&a);
        a.projection = 1;
        assert_int_equal(gancl_model_build(&a, &g, &d, err), 0);
        const int last = d.params.n - 3, pos = dc ? 7 : 6, F = dc ? 128 * 49 : 256;
        char name[64];
        snprintf(name, sizeof name, "discriminator.%d.linear.weight", pos);
        assert_string_equal(d.params.t[last].name, name);
        snprintf(name, sizeof name, "discriminator.%d.embed.weight", pos);
        assert_string_equal(d.params.t[last + 2].name, name);
        assert_int_equal(d.params.t[last + 2].shape[0], 10);
        assert_int_equal(d.params.t[last + 2].shape[1], F);
        assert_string_equal(d.params.t[0].name, "discriminator.0.weight"); /* no input embedding */
        assert_int_equal(d.params.t[0].shape[1], dc ? 1 : 784);
        assert_int_equal(gancl_net_tangent_ok(&d, why), 0); /* wgan-gp applies */
    }
}

static int setup(void **state) {
    (void)state;
    return open_test_runtime(&rt, &device, GANCL_GEMM_CLBLAST);
}

static int teardown(void **state) {
    (void)state;
    gancl_runtime_free(&rt);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_lists_cover_every_kind),
        cmocka_unit_test(test_bad_tables_rejected),
        cmocka_unit_test(test_model_tables),
        cmocka_unit_test(test_random_networks),
        cmocka_unit_test(test_random_networks_other_reductions),
        cmocka_unit_test(test_tangent_pass),
        cmocka_unit_test(test_backward_from_inner_layer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
