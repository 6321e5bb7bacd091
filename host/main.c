/* main.c: the gan-cl command line. Parses and validates flags, picks the device and
 * dispatches to the library; all real work lives in the gancl_ modules. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/classifier.h"
#include "gancl/classify.h"
#include "gancl/device.h"
#include "gancl/evaluate.h"
#include "gancl/fsutil.h"
#include "gancl/gemm.h"
#include "gancl/mnist.h"
#include "gancl/profile.h"
#include "gancl/selftest.h"
#include "gancl/train.h"
#include "gancl/tune.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <png.h>
#include <zlib.h>
#ifdef GANCL_HAVE_CURL
#include <curl/curl.h>
#endif

/* How the parser leaves on --help (0) and on a bad command line (2). tests/fuzz/fuzz_cli.c
 * includes this file with its own definition, to keep going after each argv it tries. */
#ifndef GANCL_CLI_EXIT
#define GANCL_CLI_EXIT(status) exit(status)
#endif

static const char USAGE[] =
    "usage: gan-cl [options]                 train the GAN (the main job)\n"
    "       gan-cl generate --checkpoint FILE --out FILE [--count N] [--seed S] [--format png|idx]\n"
    "                       [--digit D | --digits DDD] [--interpolate]\n"
    "       gan-cl download [--data DIR]     fetch and verify MNIST, report what is there\n"
    "       gan-cl classifier [--data DIR]   train gan-cl's digit classifier (once per data set)\n"
    "                                        or report its test accuracy and confusion matrix\n"
    "       gan-cl score --checkpoint FILE | --images FILE.idx [--count N] [--json]\n"
    "                                        measure samples: FID, precision/recall, IS, classes\n"
    "       gan-cl classify [--checkpoint FILE] [--labels FILE] FILE...   name the digit in\n"
    "                                        each PNG picture or IDX image file\n"
    "       gan-cl bench [--batch-size B] [--iters N] [--loss L] [--profile]   time iterations\n"
    "       gan-cl tune [--model M] [--batch-size B]   tune the GEMMs for this device and model\n"
    "                                        (M: mlp, dcgan, ssgan or classifier)\n"
    "       gan-cl --list-devices | --self-test | --version | --help\n"
    "\n"
    "Trains a Generative Adversarial Network on MNIST on any OpenCL device.\n"
    "\n";

static const char USAGE_TRAIN[] =
    "training:\n"
    "  --model mlp|dcgan|ssgan  the classic MLP GAN (default), the TensorFlow tutorial's DCGAN\n"
    "                        (batch 256 and Adam 0.0001 by default), or the semi-supervised GAN\n"
    "                        of Salimans et al. 2016, whose D learns to name digits from a few\n"
    "                        labels (batch 100, Adam 0.003 decaying over the last third of\n"
    "                        --epochs, its own losses; prints the test error each epoch)\n"
    "  --labels N|all        ssgan: labelled training images, N/10 of each digit chosen by\n"
    "                        --seed (default 100); all: every label (the supervised case)\n"
    "  --unlabeled-weight X  ssgan: weight of the unlabelled (real/fake) loss (default 1; 0: D\n"
    "                        learns from the labels alone, without G)\n"
    "  --epochs N            epochs to train, counting resumed ones (default 30)\n"
    "  --steps N             stop after N iterations in total (default: no limit)\n"
    "  --batch-size N        images per iteration (default 64; dcgan 256, ssgan 100)\n"
    "  --g-layers W,W,..     G's hidden widths (mlp, default 256,512,1024; ssgan 500,500) or\n"
    "                        its 3 channel counts (dcgan, default 256,128,64)\n"
    "  --d-layers W,W,..     D's hidden widths (mlp, default 512,256; ssgan 1000,500,250,250,\n"
    "                        250) or its 2 channel counts (dcgan, default 64,128); a checkpoint\n"
    "                        records both\n"
    "  --latent-dim N        size of the noise vector z (default 100)\n"
    "  --conditional         class-conditional G and D: both get the digit's class as a learned\n"
    "                        embedding, so that `generate --digit 7` draws sevens\n"
    "  --d-conditioning projection|concat  how a conditional D takes the class: a projection\n"
    "                        discriminator (default: the class embedding's inner product with\n"
    "                        D's last features), or concatenated to the image (PyTorch-GAN's cgan)\n"
    "  --loss bce|wgan|wgan-gp|hinge  the GAN loss (default bce); each brings its defaults:\n"
    "                        bce, hinge: Adam 0.0002, betas (0.5, 0.999), 1 D step per G step;\n"
    "                        wgan: RMSprop 0.00005, --clip 0.01, 5 critic steps;\n"
    "                        wgan-gp: Adam 0.0001, betas (0.5, 0.9), --gp-weight 10, 5 critic steps\n"
    "  --optimizer adam|rmsprop  the optimiser of G and D (default: the loss's)\n"
    "  --lr X                learning rate of G and D (default: the loss's)\n"
    "  --beta1 X, --beta2 X  Adam betas (default: the loss's)\n"
    "  --n-critic N          D (critic) steps per G step (default: the loss's)\n"
    "  --clip X              wgan: clamp the critic's parameters to [-X, X] after each step\n"
    "  --gp-weight X         wgan-gp: the gradient penalty's weight lambda\n"
    "  --seed N              seed of initialisation, data order and noise (default 1)\n"
    "  --out DIR             run directory (default runs/YYYYmmdd-HHMMSS; on --resume, the\n"
    "                        checkpoint's directory)\n"
    "  --sample-every N      write a sample grid every N epochs (default 1)\n"
    "  --checkpoint-every N  write the checkpoint every N epochs (default 1)\n"
    "  --log-every N         read the losses every N iterations (default 50)\n"
    "  --score-every N       score samples every N epochs and at the end (default 10; 0: never):\n"
    "                        FID, precision, recall in gan-cl's classifier (see score); needs the\n"
    "                        classifier of the data set (`gan-cl classifier`), trained first when\n"
    "                        this flag is given\n"
    "  --score-count N       samples scored each time (default 10000)\n"
    "  --ema DECAY           keep an exponential moving average of G's weights (default\n"
    "                        0.999, ssgan 0; 0: none); samples, scores and generate use it\n"
    "  --resume FILE         continue from a checkpoint (its settings are kept)\n"
    "  --quiet               print only errors and warnings\n"
    "  --profile             print per-kernel device times at the end (also for bench)\n"
    "\n";

static const char USAGE_TOOLS[] =
    "bench:\n"
    "  --iters N             timed iterations after a warm-up (default 50), on random data;\n"
    "                        --batch-size, --device, --gemm and --profile apply\n"
    "\n"
    "tune:\n"
    "  for the GEMM shapes of one --model iteration at --batch-size on --device: picks CLBlast\n"
    "  kernel parameters, then times every GEMM method on each shape and keeps the fastest;\n"
    "  every candidate's results are checked first. Stored in the cache dir (choices for more\n"
    "  models and batch sizes add up); training and bench use them from then on. Training and\n"
    "  bench already run a quick version by themselves on first use; this is the full search\n"
    "  (5 minutes for the MLP from cold caches on a 2-core CPU). Safe to interrupt.\n"
    "  --no-tune             train, bench, classifier: leave GEMM shapes without a stored\n"
    "                        choice untuned (by default a quick tune runs first: about 1 s\n"
    "                        for the MLP, 1 minute for the DCGAN on a 2-core CPU)\n"
    "\n";

/* ISO C limits a string literal's length: the help comes in three parts. */
static const char USAGE_MORE[] =
    "generate:\n"
    "  --checkpoint FILE     a checkpoint.safetensors written by training\n"
    "  --out FILE            the PNG grid or IDX file to write\n"
    "  --count N             number of images (default 64; per digit with --digits, and then 10;\n"
    "                        for --interpolate, the strip's length, default 10)\n"
    "  --seed N              noise seed (default 1)\n"
    "  --format png|idx      PNG grid (default) or IDX file of uint8 28x28 images (with a\n"
    "                        conditional model, and the labels file of the classes asked for)\n"
    "  --digit D             conditional models: draw only the digit D\n"
    "  --digits DDD          conditional models: one row per digit, e.g. 0123456789\n"
    "  --interpolate         a strip morphing from one noise vector to another (conditional:\n"
    "                        at --digit D), or with --digits AB from digit A to digit B\n"
    "\n"
    "score:\n"
    "  --checkpoint FILE     score the checkpoint's generator (its EMA one when it has one) ...\n"
    "  --images FILE.idx     ... or the images of an IDX file (uint8 28x28)\n"
    "  --count N             images to score (default 10000, or all the file holds); N real\n"
    "                        training images are scored too, as the floor\n"
    "  --seed N              the checkpoint's noise seed (default 1)\n"
    "  --json                print the scores as JSON\n"
    "\n"
    "classify:\n"
    "  FILE...               PNG pictures of one digit each (any size, grey or colour, with or\n"
    "                        without alpha, dark-on-light or light-on-dark), made MNIST-like:\n"
    "                        cropped to the ink, fit to 20x20, centred by mass in 28x28; or\n"
    "                        IDX files of 28x28 images (--images FILE names one more)\n"
    "  --labels FILE         an IDX labels file, one label per image in order: prints the\n"
    "                        accuracy and the confusion matrix\n"
    "  --checkpoint FILE     name the digits with an ssgan checkpoint's D; without it, with\n"
    "                        gan-cl's classifier of the --data set (trained first if the cache\n"
    "                        lacks it)\n"
    "\n"
    "data:\n"
    "  --data DIR            MNIST directory (default: $GANCL_DATA, else ~/.cache/gan-cl/mnist);\n"
    "                        any 28x28 IDX data set with the MNIST file names works\n"
    "  --mirror URL          download from this base URL only (default: $GANCL_MNIST_MIRROR,\n"
    "                        else the built-in mirrors)\n"
    "  --offline             never download; fail with a hint when files are missing\n"
    "\n"
    "device:\n"
    "  --list-devices        list the OpenCL devices (one index over all platforms)\n"
    "  --device N|NAME       device index from --list-devices, or part of its name\n"
    "                        (default: the first GPU, else the first device)\n"
    "  --gemm METHOD         how GEMMs run: auto (default: per shape as `tune` chose, else\n"
    "                        CLBlast), clblast, matmul (gan-cl's tiled kernel), tiled-4x4\n"
    "                        (its GPU-shaped kernel: 4x4 outputs per item), or one of\n"
    "                        gan-cl's register-blocked kernels: xn-8x32, xn-4x64, xn-6x32,\n"
    "                        xn-4x32, xn-6x16, xn-4x16 (for A B and A^T B), nt-4x4, nt-3x4,\n"
    "                        nt-2x4, nt-4x2, nt-2x2 (for A B^T), blk-64x32 (any, blocked for\n"
    "                        long k), pk-8x32, pk-6x16 (any, operands packed into panels\n"
    "                        first); matmul runs what they cannot\n"
    "  --self-test           check every kernel and both GEMM paths on the device against C\n"
    "                        references; exits non-zero on any failure\n"
    "\n"
    "  --version             gan-cl's version and its libraries' versions\n"
    "  -h, --help            this help\n"
    "\n"
    "environment:\n"
    "  GANCL_DATA            data directory (overridden by --data)\n"
    "  GANCL_MNIST_MIRROR    download base URL (overridden by --mirror)\n"
    "  GANCL_KERNEL_DIR      load the .cl kernels from this directory instead of the built-in copy\n"
    "  XDG_CACHE_HOME        cache root (kernel binaries, data): $XDG_CACHE_HOME/gan-cl\n"
    "\n"
    "exit status: 0 success, 1 error, 2 bad command line, 130 stopped by Ctrl-C (checkpoint saved)\n";

enum { CMD_TRAIN = 1, CMD_GENERATE = 2, CMD_DOWNLOAD = 4, CMD_SELFTEST = 8, CMD_LIST = 16,
       CMD_BENCH = 32, CMD_TUNE = 64, CMD_CLASSIFIER = 128, CMD_SCORE = 256, CMD_CLASSIFY = 512 };
#define DEVICE_CMDS (CMD_TRAIN | CMD_GENERATE | CMD_SELFTEST | CMD_BENCH | CMD_TUNE | CMD_CLASSIFIER | CMD_SCORE | \
                     CMD_CLASSIFY)
#define DATA_CMDS (CMD_TRAIN | CMD_DOWNLOAD | CMD_CLASSIFIER | CMD_SCORE | CMD_CLASSIFY)

/* Every option: its name, whether it takes a value, and the commands it applies to. */
static const struct {
    const char *name;
    int value;
    int cmds;
} OPTIONS[] = {
    {"--model", 1, CMD_TRAIN | CMD_BENCH | CMD_TUNE}, {"--profile", 0, CMD_TRAIN | CMD_BENCH | CMD_CLASSIFIER},
    {"--iters", 1, CMD_BENCH}, {"--loss", 1, CMD_TRAIN | CMD_BENCH}, {"--optimizer", 1, CMD_TRAIN},
    {"--n-critic", 1, CMD_TRAIN}, {"--clip", 1, CMD_TRAIN}, {"--gp-weight", 1, CMD_TRAIN},
    {"--epochs", 1, CMD_TRAIN}, {"--steps", 1, CMD_TRAIN}, {"--batch-size", 1, CMD_TRAIN | CMD_BENCH | CMD_TUNE},
    {"--latent-dim", 1, CMD_TRAIN}, {"--conditional", 0, CMD_TRAIN}, {"--d-conditioning", 1, CMD_TRAIN}, {"--g-layers", 1, CMD_TRAIN}, {"--d-layers", 1, CMD_TRAIN}, {"--lr", 1, CMD_TRAIN}, {"--beta1", 1, CMD_TRAIN},
    {"--beta2", 1, CMD_TRAIN}, {"--seed", 1, CMD_TRAIN | CMD_GENERATE | CMD_SCORE},
    {"--out", 1, CMD_TRAIN | CMD_GENERATE}, {"--sample-every", 1, CMD_TRAIN},
    {"--checkpoint-every", 1, CMD_TRAIN}, {"--log-every", 1, CMD_TRAIN}, {"--resume", 1, CMD_TRAIN},
    {"--quiet", 0, CMD_TRAIN | CMD_DOWNLOAD | CMD_BENCH | CMD_CLASSIFIER | CMD_SCORE | CMD_CLASSIFY},
    {"--checkpoint", 1, CMD_GENERATE | CMD_SCORE | CMD_CLASSIFY}, {"--count", 1, CMD_GENERATE | CMD_SCORE},
    {"--format", 1, CMD_GENERATE}, {"--digit", 1, CMD_GENERATE}, {"--digits", 1, CMD_GENERATE},
    {"--interpolate", 0, CMD_GENERATE}, {"--images", 1, CMD_SCORE | CMD_CLASSIFY}, {"--labels", 1, CMD_CLASSIFY | CMD_TRAIN}, {"--unlabeled-weight", 1, CMD_TRAIN}, {"--json", 0, CMD_SCORE},
    {"--score-every", 1, CMD_TRAIN}, {"--score-count", 1, CMD_TRAIN}, {"--ema", 1, CMD_TRAIN}, {"--data", 1, DATA_CMDS},
    {"--mirror", 1, DATA_CMDS}, {"--offline", 0, DATA_CMDS}, {"--device", 1, DEVICE_CMDS},
    {"--gemm", 1, DEVICE_CMDS}, {"--no-tune", 0, CMD_TRAIN | CMD_BENCH | CMD_CLASSIFIER},
};
#define N_OPTIONS (int)(sizeof OPTIONS / sizeof *OPTIONS)

typedef struct {
    int cmd;
    const char *value[N_OPTIONS]; /* value given ("" for switches), or NULL */
    const char **files;           /* classify: the arguments that are not options */
    int n_files;
} cli;

static _Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "gan-cl: error: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  hint: gan-cl --help lists the commands and options\n");
    GANCL_CLI_EXIT(2);
}

static int option_index(const char *name) {
    for (int i = 0; i < N_OPTIONS; i++)
        if (!strcmp(OPTIONS[i].name, name)) return i;
    return -1;
}

static const char *opt(const cli *c, const char *name) { return c->value[option_index(name)]; }

static const char *cmd_name(int cmd) {
    switch (cmd) {
    case CMD_GENERATE: return "generate";
    case CMD_DOWNLOAD: return "download";
    case CMD_SELFTEST: return "--self-test";
    case CMD_LIST: return "--list-devices";
    case CMD_BENCH: return "bench";
    case CMD_TUNE: return "tune";
    case CMD_CLASSIFIER: return "classifier";
    case CMD_SCORE: return "score";
    case CMD_CLASSIFY: return "classify";
    default: return "training";
    }
}

/* Room for argc file names; one list for the process (a static, so that a usage error's
 * exit, or longjmp in the fuzzer, leaves nothing unreachable). */
static const char **file_list(int argc) {
    static const char **list;
    static int cap;
    if (argc > cap) {
        const char **grown = realloc(list, (size_t)argc * sizeof *list);
        if (!grown) gancl_die("out of host memory");
        list = grown;
        cap = argc;
    }
    return list;
}

static cli parse(int argc, char **argv) {
    cli c;
    memset(&c, 0, sizeof c);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(USAGE, stdout);
            fputs(USAGE_TRAIN, stdout);
            fputs(USAGE_TOOLS, stdout);
            fputs(USAGE_MORE, stdout);
            GANCL_CLI_EXIT(0);
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int cmd = 0;
        if (!strcmp(a, "--version") || !strcmp(a, "-V")) cmd = -1;
        else if (!strcmp(a, "--list-devices")) cmd = CMD_LIST;
        else if (!strcmp(a, "--self-test")) cmd = CMD_SELFTEST;
        else if (!strcmp(a, "generate")) cmd = CMD_GENERATE;
        else if (!strcmp(a, "download")) cmd = CMD_DOWNLOAD;
        else if (!strcmp(a, "bench")) cmd = CMD_BENCH;
        else if (!strcmp(a, "tune")) cmd = CMD_TUNE;
        else if (!strcmp(a, "classifier")) cmd = CMD_CLASSIFIER;
        else if (!strcmp(a, "score")) cmd = CMD_SCORE;
        else if (!strcmp(a, "classify")) cmd = CMD_CLASSIFY;
        if (cmd) {
            if (c.cmd && c.cmd != cmd) usage_error("'%s' cannot be combined with '%s'", a, cmd_name(c.cmd));
            c.cmd = cmd;
            continue;
        }
        if (a[0] != '-' || !a[1]) { /* a file to classify (checked below: only classify takes them) */
            c.files = file_list(argc);
            c.files[c.n_files++] = a;
            continue;
        }
        char name[64];
        const char *eq = strchr(a, '=');
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
        int k = option_index(name);
        if (k < 0) usage_error("unknown option '%s'", name);
        if (c.value[k]) usage_error("option %s given twice", name);
        if (!OPTIONS[k].value) {
            if (eq) usage_error("option %s takes no value", name);
            c.value[k] = "";
        } else if (eq) {
            c.value[k] = eq + 1;
        } else {
            if (i + 1 >= argc) usage_error("option %s needs a value", name);
            c.value[k] = argv[++i];
        }
        if (OPTIONS[k].value && !c.value[k][0]) usage_error("option %s needs a value", name);
    }
    if (!c.cmd) c.cmd = CMD_TRAIN;
    if (c.n_files && c.cmd != CMD_CLASSIFY) usage_error("unexpected argument '%s'", c.files[0]);
    if (c.cmd == -1) return c;
    for (int k = 0; k < N_OPTIONS; k++)
        if (c.value[k] && !(OPTIONS[k].cmds & c.cmd))
            usage_error("option %s does not apply to %s", OPTIONS[k].name, cmd_name(c.cmd));
    const char *g = opt(&c, "--gemm"), *f = opt(&c, "--format");
    if (g && gancl_gemm_method_find(g) == -2)
        usage_error("--gemm %s: expected auto, clblast, matmul or a kernel listed in --help", g);
    if (f && strcmp(f, "png") && strcmp(f, "idx")) usage_error("--format %s: expected png or idx", f);
    const char *ls = opt(&c, "--loss"), *op = opt(&c, "--optimizer");
    if (ls && strcmp(ls, "bce") && strcmp(ls, "wgan") && strcmp(ls, "wgan-gp") && strcmp(ls, "hinge"))
        usage_error("--loss %s: expected bce, wgan, wgan-gp or hinge", ls);
    if (op && strcmp(op, "adam") && strcmp(op, "rmsprop")) usage_error("--optimizer %s: expected adam or rmsprop", op);
    const char *m = opt(&c, "--model");
    if (m && c.cmd == CMD_TUNE && !strcmp(m, "classifier")) {
        const char *b = opt(&c, "--batch-size");
        if (b && atoi(b) != GANCL_CLASSIFIER_BATCH)
            usage_error("--batch-size %s: the classifier trains at batch %d", b, GANCL_CLASSIFIER_BATCH);
    } else if (m && strcmp(m, "mlp") && strcmp(m, "dcgan") && (strcmp(m, "ssgan") || c.cmd == CMD_BENCH)) {
        usage_error("--model %s: expected mlp, dcgan%s", m,
                    c.cmd == CMD_TUNE ? ", ssgan or classifier" : c.cmd == CMD_BENCH ? " (bench times the GANs of "
                    "gancl_train_iteration)" : " or ssgan");
    }
    return c;
}

/* A whole number in [lo, hi]; a usage error otherwise. */
static long long int_arg(const cli *c, const char *name, long long dflt, long long lo, long long hi) {
    const char *v = opt(c, name);
    if (!v) return dflt;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (*end || errno || end == v) usage_error("%s %s: not a whole number", name, v);
    if (x < lo || x > hi) usage_error("%s %s: must be between %lld and %lld", name, v, lo, hi);
    return x;
}

/* --model (default mlp). */
static gancl_model model_arg(const cli *c) {
    const char *m = opt(c, "--model");
    if (m && !strcmp(m, "classifier")) return GANCL_MODEL_CLASSIFIER; /* tune only (checked in parse) */
    gancl_model model = GANCL_MODEL_MLP;
    if (m) (void)gancl_model_parse(m, &model); /* checked in parse */
    return model;
}

/* --batch-size up to hi; the default is the model's own (the DCGAN tutorial's 256, the
 * improved-gan script's 100, else 64). */
static int batch_arg(const cli *c, gancl_model model, int hi) {
    const int dflt = model == GANCL_MODEL_DCGAN ? 256 : model == GANCL_MODEL_CLASSIFIER ? GANCL_CLASSIFIER_BATCH
                     : model == GANCL_MODEL_SSGAN ? 100 : 64;
    return (int)int_arg(c, "--batch-size", dflt, 1, hi);
}

/* --loss (checked in parse; default bce). */
static gancl_loss loss_arg(const cli *c) {
    const char *loss = opt(c, "--loss");
    for (int i = 0; loss && i < 4; i++)
        if (!strcmp(loss, gancl_loss_name((gancl_loss)i))) return (gancl_loss)i;
    return GANCL_LOSS_BCE;
}

static float float_arg(const cli *c, const char *name, float dflt, double lo, double hi, int lo_open) {
    const char *v = opt(c, name);
    if (!v) return dflt;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (*end || errno || end == v || !isfinite(x)) usage_error("%s %s: not a number", name, v);
    if (x < lo || x > hi || (lo_open && x == lo))
        usage_error("%s %s: must be %s %g and at most %g", name, v, lo_open ? "above" : "at least", lo, hi);
    return (float)x;
}

static void print_version(void) {
    printf("gan-cl %s\n", GANCL_VERSION);
    printf("CLBlast %s (build), zlib %s, libpng %s", GANCL_CLBLAST_VERSION, zlibVersion(), png_get_libpng_ver(NULL));
#ifdef GANCL_HAVE_CURL
    printf(", libcurl %s", curl_version_info(CURLVERSION_NOW)->version);
#else
    printf(", built without libcurl (no downloads)");
#endif
    printf("\n");
    cl_uint np = 0;
    if (clGetPlatformIDs(0, NULL, &np) != CL_SUCCESS || np == 0) {
        printf("OpenCL: no platform found\n");
        return;
    }
    cl_platform_id plats[16];
    if (np > 16) np = 16;
    if (clGetPlatformIDs(np, plats, NULL) != CL_SUCCESS) return;
    for (cl_uint i = 0; i < np; i++) {
        char name[128] = "?", ver[128] = "?";
        clGetPlatformInfo(plats[i], CL_PLATFORM_NAME, sizeof name, name, NULL);
        clGetPlatformInfo(plats[i], CL_PLATFORM_VERSION, sizeof ver, ver, NULL);
        name[127] = ver[127] = 0;
        printf("OpenCL platform: %s (%s)\n", name, ver);
    }
}

/* Picks the device --device names and sets up the runtime; exits with the list on failure.
 * w: the workload this command multiplies (NULL: none), tuned quickly first when some GEMM
 * shape of it has no stored choice (unless --no-tune or --gemm says otherwise). */
static void open_runtime(const cli *c, gancl_runtime *rt, const gancl_workload *w) {
    char err[GANCL_ERR_LEN];
    gancl_device_info *all;
    int n;
    if (gancl_devices_list(&all, &n)) gancl_die("out of host memory");
    int idx = gancl_devices_select(all, n, opt(c, "--device"), err);
    if (idx < 0) {
        fprintf(stderr, "gan-cl: error: %s\n", err);
        if (n) {
            fprintf(stderr, "available devices:\n");
            gancl_devices_print(stderr, all, n);
        }
        exit(1);
    }
    const char *g = opt(c, "--gemm");
    gancl_gemm_method gemm = g ? gancl_gemm_method_find(g) : GANCL_GEMM_AUTO;
    gancl_device_info dev = all[idx];
    free(all);
    gancl_runtime_init(rt, &dev, gemm);
    if (opt(c, "--profile")) gancl_profiler_start(rt);
    if (c->cmd == CMD_TUNE || (gemm != GANCL_GEMM_AUTO && gemm != GANCL_GEMM_CLBLAST)) return;
    const int chatty = (c->cmd == CMD_TRAIN || c->cmd == CMD_BENCH || c->cmd == CMD_CLASSIFIER) && !opt(c, "--quiet");
    /* not the self-test: its odd shapes would go into the tuning file */
    gancl_tuning_prepare(rt, w, !opt(c, "--no-tune") && c->cmd != CMD_SELFTEST, chatty ? stdout : NULL);
}

static int cmd_list_devices(void) {
    gancl_device_info *devs;
    int n;
    if (gancl_devices_list(&devs, &n)) gancl_die("out of host memory");
    if (n == 0) {
        fprintf(stderr, "gan-cl: error: %s\n", GANCL_NO_DEVICE_HINT);
        return 1;
    }
    gancl_devices_print(stdout, devs, n);
    free(devs);
    return 0;
}

static int cmd_self_test(const cli *c) {
    gancl_runtime rt;
    open_runtime(c, &rt, NULL);
    printf("self-test on %s (%s, driver %s)\n", rt.dev.name, rt.dev.platform_name, rt.dev.driver_version);
    static const char *cache_words[] = {"off (no cache directory)", "hit", "miss (built and stored)",
                                        "corrupt or stale entry rebuilt"};
    printf("kernel cache: %s%s%s\n", cache_words[rt.cache_status], rt.cache_path[0] ? " " : "",
           rt.cache_path);
    int failures = gancl_selftest_run(&rt, stdout);
    gancl_runtime_free(&rt);
    printf("%d of %d checks passed\n", GANCL_N_CHECKS - failures, GANCL_N_CHECKS);
    if (failures)
        fprintf(stderr, "gan-cl: error: %d check(s) failed on this device: its results cannot be trusted\n"
                        "  hint: try --gemm matmul (if only CLBlast failed), another --device, or a newer driver\n",
                failures);
    return failures ? 1 : 0;
}

/* The data directory, with the files downloaded when missing (unless --offline). */
static void ensure_data(const cli *c, char *dir, size_t len) {
    char err[GANCL_ERR_LEN];
    if (gancl_data_dir(opt(c, "--data"), dir, len, err)) gancl_die("%s", err);
    int progress = !opt(c, "--quiet") && isatty(STDERR_FILENO);
    if (gancl_data_ensure(dir, opt(c, "--mirror"), opt(c, "--offline") != NULL, progress, err))
        gancl_die("%s", err);
}

static int cmd_download(const cli *c) {
    char dir[4096], err[GANCL_ERR_LEN];
    if (gancl_data_dir(opt(c, "--data"), dir, sizeof dir, err)) gancl_die("%s", err);
    int progress = !opt(c, "--quiet") && isatty(STDERR_FILENO);
    int rc = gancl_data_ensure(dir, opt(c, "--mirror"), opt(c, "--offline") != NULL, progress, err);
    if (rc) fprintf(stderr, "gan-cl: error: %s\n", err);
    printf("data directory: %s\n", dir);
    int bad = rc != 0;
    for (int w = 0; w < GANCL_N_FILES; w++) {
        char path[4096];
        if (gancl_data_find(dir, w, path, sizeof path)) {
            printf("  %-28s missing\n", GANCL_MNIST_FILES[w].name);
            bad = 1;
            continue;
        }
        gancl_idx idx;
        if (gancl_idx_load(path, &idx, err)) {
            printf("  %-28s INVALID: %s\n", gancl_basename(path), err);
            bad = 1;
            continue;
        }
        int official = gancl_data_is_official(path, w);
        printf("  %-28s %6u %s, %s\n", gancl_basename(path), idx.count,
               idx.magic == GANCL_IDX_IMAGES ? "images" : "labels",
               official == 1 ? "checksum OK (official MNIST)" : "not the official MNIST files");
        gancl_idx_free(&idx);
    }
    return bad ? 1 : 0;
}

/* Everything the training flags say, validated; touches no file and no device. */
static gancl_train_config train_args(const cli *c) {
    gancl_train_config cfg = gancl_train_defaults();
    cfg.model = model_arg(c);
    cfg.set_model = opt(c, "--model") != NULL;
    const int dcgan = cfg.model == GANCL_MODEL_DCGAN;
    cfg.epochs = (int)int_arg(c, "--epochs", cfg.epochs, 1, 100000);
    cfg.steps = int_arg(c, "--steps", 0, 1, 1000000000000LL);
    cfg.batch = batch_arg(c, cfg.model, 65536);
    cfg.latent = (int)int_arg(c, "--latent-dim", cfg.latent, 1, 10000);
    cfg.conditional = cfg.set_conditional = opt(c, "--conditional") != NULL;
    const char *dcond = opt(c, "--d-conditioning");
    if (dcond && strcmp(dcond, "concat") && strcmp(dcond, "projection"))
        usage_error("--d-conditioning '%s': expected concat or projection", dcond);
    if (dcond && !cfg.conditional && !opt(c, "--resume"))
        usage_error("--d-conditioning applies only to --conditional models");
    cfg.projection = !dcond || !strcmp(dcond, "projection"); /* the default: measured better */
    cfg.set_projection = dcond != NULL;
    char err[GANCL_ERR_LEN];
    const char *gl = opt(c, "--g-layers"), *dl = opt(c, "--d-layers");
    if (gl && gancl_widths_parse(gl, cfg.g_layers, &cfg.ng, err)) usage_error("--g-layers %s", err);
    if (dl && gancl_widths_parse(dl, cfg.d_layers, &cfg.nd, err)) usage_error("--d-layers %s", err);
    cfg.set_layers = gl || dl;
    if (cfg.set_layers) { /* the tables must make networks: checked before any device work */
        gancl_arch arch = gancl_train_arch(&cfg);
        static gancl_net g, d;
        if (gancl_model_build(&arch, &g, &d, err)) usage_error("--g-layers/--d-layers: %s", err);
    }
    const char *loss = opt(c, "--loss"), *optimizer = opt(c, "--optimizer");
    const gancl_loss l = loss_arg(c);
    cfg.step = gancl_step_defaults(l);
    gancl_step_config *st = &cfg.step;
    const int ss = cfg.model == GANCL_MODEL_SSGAN;
    const char *labels = opt(c, "--labels"), *uw = opt(c, "--unlabeled-weight");
    if ((labels || uw) && !ss && !(opt(c, "--resume") && !cfg.set_model))
        usage_error("--labels and --unlabeled-weight apply only to --model ssgan");
    if (ss) {
        if (loss || optimizer || opt(c, "--n-critic") || opt(c, "--conditional"))
            usage_error("--model ssgan has its own losses (K+1 classes, feature matching) and Adam: --loss, "
                        "--optimizer, --n-critic and --conditional do not apply");
        st->lr_g = st->lr_d = 0.003f; /* the improved-gan script's; beta1 0.5 as the bce default */
        cfg.ema = 0; /* the script keeps no average of G */
    }
    cfg.labels = 100;
    if (labels && !strcmp(labels, "all")) cfg.labels = 0;
    else if (labels) {
        cfg.labels = (int)int_arg(c, "--labels", 100, 10, 60000);
        if (cfg.labels % 10) usage_error("--labels %s: must be a multiple of 10 (the same number of each digit), or all", labels);
    }
    cfg.set_labels = labels != NULL;
    cfg.unlabeled_weight = float_arg(c, "--unlabeled-weight", 1.0f, 0, 1000, 0);
    cfg.set_unlabeled_weight = uw != NULL;
    if (dcgan && (l == GANCL_LOSS_BCE || l == GANCL_LOSS_HINGE)) st->lr_g = st->lr_d = 1e-4f; /* the tutorial's */
    if (optimizer) st->optimizer = strcmp(optimizer, "adam") ? GANCL_OPT_RMSPROP : GANCL_OPT_ADAM;
    st->lr_g = st->lr_d = float_arg(c, "--lr", st->lr_g, 0, 1, 1);
    st->beta1 = float_arg(c, "--beta1", st->beta1, 0, 0.999999, 0);
    st->beta2 = float_arg(c, "--beta2", st->beta2, 0, 0.999999, 0);
    st->n_critic = (int)int_arg(c, "--n-critic", st->n_critic, 1, 100);
    st->clip = float_arg(c, "--clip", st->clip, 0, 100, 1);
    st->gp_weight = float_arg(c, "--gp-weight", st->gp_weight, 0, 1e6, 1);
    if (opt(c, "--clip") && l != GANCL_LOSS_WGAN) usage_error("--clip applies only to --loss wgan");
    if (opt(c, "--gp-weight") && l != GANCL_LOSS_WGAN_GP) usage_error("--gp-weight applies only to --loss wgan-gp");
    if ((opt(c, "--beta1") || opt(c, "--beta2")) && st->optimizer != GANCL_OPT_ADAM)
        usage_error("--beta1/--beta2 apply only to --optimizer adam (this run uses %s)", "rmsprop");
    cfg.set_loss = loss != NULL;
    cfg.set_optimizer = optimizer != NULL;
    cfg.set_n_critic = opt(c, "--n-critic") != NULL;
    cfg.set_clip = opt(c, "--clip") != NULL;
    cfg.set_gp_weight = opt(c, "--gp-weight") != NULL;
    cfg.seed = (uint64_t)int_arg(c, "--seed", 1, 0, 9007199254740991LL);
    cfg.sample_every = (int)int_arg(c, "--sample-every", cfg.sample_every, 1, 100000);
    cfg.checkpoint_every = (int)int_arg(c, "--checkpoint-every", cfg.checkpoint_every, 1, 100000);
    cfg.log_every = (int)int_arg(c, "--log-every", cfg.log_every, 1, 1000000);
    cfg.score_every = (int)int_arg(c, "--score-every", cfg.score_every, 0, 100000);
    cfg.score_count = (int)int_arg(c, "--score-count", cfg.score_count, 2, 60000);
    if (opt(c, "--score-count") && cfg.score_every == 0) usage_error("--score-count needs scoring (--score-every 0 turns it off)");
    cfg.ema = float_arg(c, "--ema", cfg.ema, 0, 0.99999, 0); /* after the ssgan's default of none */
    cfg.set_ema = opt(c, "--ema") != NULL;
    cfg.quiet = opt(c, "--quiet") != NULL;
    cfg.resume = opt(c, "--resume");
    cfg.set_latent = opt(c, "--latent-dim") != NULL;
    cfg.set_batch = opt(c, "--batch-size") != NULL;
    cfg.set_lr = opt(c, "--lr") != NULL;
    cfg.set_beta1 = opt(c, "--beta1") != NULL;
    cfg.set_beta2 = opt(c, "--beta2") != NULL;
    cfg.set_seed = opt(c, "--seed") != NULL;
    if (opt(c, "--out")) snprintf(cfg.out_dir, sizeof cfg.out_dir, "%s", opt(c, "--out"));
    return cfg;
}

static int cmd_train(const cli *c) {
    gancl_train_config cfg = train_args(c);
    char err[GANCL_ERR_LEN];
    if (cfg.resume && !gancl_file_exists(cfg.resume))
        gancl_die("--resume %s: no such file", cfg.resume);

    char dir[4096];
    ensure_data(c, dir, sizeof dir);
    gancl_dataset ds;
    if (gancl_dataset_load(dir, 1, &ds, err))
        gancl_die("%s\n  hint: replace or delete the damaged file (`gan-cl download --data %s` fetches "
                  "missing ones and reports on each)", err, dir);
    gancl_runtime rt; /* a resumed run has its networks in its checkpoint: tuned when it began */
    gancl_workload w = {cfg.model, gancl_train_arch(&cfg), cfg.step.loss, cfg.batch};
    open_runtime(c, &rt, cfg.resume ? NULL : &w);
    /* the scores need gan-cl's classifier: trained here only when --score-every asks for it */
    gancl_scorer scorer;
    int scoring = 0;
    /* a new run shorter than an epoch never scores: no need for the classifier */
    const int too_short = !cfg.resume && cfg.steps > 0 && cfg.steps < (long long)ds.images.count / cfg.batch;
    if (cfg.score_every > 0 && !too_short) {
        int rc = gancl_scorer_open(&scorer, &rt, &ds, dir, !opt(c, "--score-every"), cfg.quiet, err);
        if (rc < 0) gancl_die("%s\n  hint: --score-every 0 trains without scores", err);
        scoring = rc == 0;
        if (rc == 1 && !cfg.quiet)
            printf("note: no sample scores: gan-cl's classifier for this data set is not trained yet;\n"
                   "      `gan-cl classifier` trains it once (13 minutes on a 2-core CPU through PoCL), or\n"
                   "      pass --score-every N to train it first\n");
    }
    /* the ssgan's test error (a resumed run's model is known once its checkpoint is read:
     * the test set is loaded when it may be needed) */
    gancl_dataset test;
    const int need_test = cfg.model == GANCL_MODEL_SSGAN || (cfg.resume && !cfg.set_model);
    if (need_test && gancl_dataset_load(dir, 0, &test, err)) gancl_die("%s", err);
    int status = gancl_train(&rt, &cfg, &ds, need_test ? &test : NULL, scoring ? &scorer : NULL);
    if (need_test) gancl_dataset_free(&test);
    if (scoring) gancl_scorer_free(&scorer);
    gancl_runtime_free(&rt);
    gancl_dataset_free(&ds);
    return status;
}

/* What `bench` and `tune` measure: a model at a batch size (bench: for some iterations). */
typedef struct {
    gancl_model model;
    int batch, iters;
    gancl_loss loss;
} workload_args;

static workload_args bench_args(const cli *c) {
    workload_args w = {model_arg(c), 0, 0, loss_arg(c)};
    w.batch = batch_arg(c, w.model, 4096);
    w.iters = (int)int_arg(c, "--iters", 50, 1, 1000000);
    return w;
}

static int cmd_bench(const cli *c) {
    const workload_args w = bench_args(c);
    gancl_runtime rt;
    const gancl_workload wl = gancl_workload_default(w.model, w.batch, w.loss);
    open_runtime(c, &rt, &wl);
    int status = gancl_bench(&rt, w.model, w.batch, w.iters, w.loss);
    gancl_runtime_free(&rt);
    return status;
}

static int cmd_tune(const cli *c) {
    const workload_args w = bench_args(c); /* --iters and --loss do not apply to tune (parse) */
    gancl_runtime rt;
    open_runtime(c, &rt, NULL);
    const gancl_workload wl = gancl_workload_default(w.model, w.batch, GANCL_LOSS_BCE);
    int status = gancl_tune(&rt, &wl, GANCL_TUNE_FULL, stdout, 0);
    gancl_runtime_free(&rt);
    return status;
}

static int cmd_classifier(const cli *c) {
    char dir[4096];
    ensure_data(c, dir, sizeof dir);
    gancl_runtime rt;
    const gancl_workload wl = gancl_workload_default(GANCL_MODEL_CLASSIFIER, GANCL_CLASSIFIER_BATCH, GANCL_LOSS_BCE);
    open_runtime(c, &rt, &wl);
    int status = gancl_classifier_report(&rt, dir, opt(c, "--quiet") != NULL);
    if (rt.prof) gancl_prof_report(&rt, stdout);
    gancl_runtime_free(&rt);
    return status;
}

static int cmd_classify(const cli *c) {
    const char *first = opt(c, "--images");
    const int n = c->n_files + (first != NULL);
    if (n == 0) usage_error("classify needs images: gan-cl classify digit.png [more.png ...] or --images FILE.idx");
    const char **files = malloc((size_t)n * sizeof *files);
    if (!files) gancl_die("out of host memory");
    if (first) files[0] = first;
    for (int i = 0; i < c->n_files; i++) files[(first != NULL) + i] = c->files[i];
    const char *ck = opt(c, "--checkpoint");
    if (ck && (opt(c, "--data") || opt(c, "--mirror") || opt(c, "--offline")))
        usage_error("--checkpoint classifies with the checkpoint's D: --data, --mirror and --offline do not apply");
    char dir[4096] = "";
    if (!ck) ensure_data(c, dir, sizeof dir); /* gan-cl's classifier is trained on it */
    gancl_runtime rt;
    open_runtime(c, &rt, NULL);
    int status = gancl_classify_command(&rt, dir, ck, files, n, opt(c, "--labels"), opt(c, "--quiet") != NULL);
    gancl_runtime_free(&rt);
    free(files);
    return status;
}

/* What `score` and `generate` take: a source file, how many images, from which seed (and for
 * generate, which digits, and whether as a strip). */
typedef struct {
    const char *checkpoint, *images, *out;
    int count;
    uint64_t seed;
    gancl_image_format format;
    char digits[24];
    int interpolate;
} sample_args;

static sample_args score_args(const cli *c) {
    sample_args a = {opt(c, "--checkpoint"), opt(c, "--images"), NULL, 0, 0, GANCL_FORMAT_PNG, "", 0};
    if (!a.checkpoint == !a.images) usage_error("score needs one of --checkpoint FILE or --images FILE.idx");
    a.count = (int)int_arg(c, "--count", 10000, 2, 60000);
    a.seed = (uint64_t)int_arg(c, "--seed", 1, 0, 9007199254740991LL);
    return a;
}

static int cmd_score(const cli *c) {
    const sample_args a = score_args(c);
    const char *ck = a.checkpoint, *im = a.images, *path = ck ? ck : im;
    if (!gancl_file_exists(path)) gancl_die("%s %s: no such file", ck ? "--checkpoint" : "--images", path);
    const int count = a.count;
    const uint64_t seed = a.seed;
    char dir[4096];
    ensure_data(c, dir, sizeof dir);
    gancl_runtime rt;
    open_runtime(c, &rt, NULL);
    int status = gancl_score_command(&rt, dir, ck, im, count, opt(c, "--count") != NULL, seed,
                                     opt(c, "--json") != NULL, opt(c, "--quiet") != NULL);
    gancl_runtime_free(&rt);
    return status;
}

static sample_args generate_args(const cli *c) {
    const char *f = opt(c, "--format");
    sample_args a = {opt(c, "--checkpoint"), NULL, opt(c, "--out"), 0, 0, GANCL_FORMAT_PNG, "", 0};
    if (!a.checkpoint) usage_error("generate needs --checkpoint FILE");
    if (!a.out) usage_error("generate needs --out FILE");
    if (f && !strcmp(f, "idx")) a.format = GANCL_FORMAT_IDX;
    const char *d1 = opt(c, "--digit"), *dn = opt(c, "--digits");
    if (d1 && dn) usage_error("--digit and --digits cannot be combined");
    if (d1 && (strlen(d1) != 1 || d1[0] < '0' || d1[0] > '9'))
        usage_error("--digit %s: expected one digit, 0 to 9", d1);
    if (dn && (strlen(dn) > 10 || strspn(dn, "0123456789") != strlen(dn)))
        usage_error("--digits %s: expected 1 to 10 digits 0-9, e.g. 0123456789", dn);
    snprintf(a.digits, sizeof a.digits, "%s", d1 ? d1 : dn ? dn : "");
    a.interpolate = opt(c, "--interpolate") != NULL;
    if (a.interpolate && dn && strlen(dn) != 2)
        usage_error("--interpolate --digits %s: expected two digits, the strip's two ends (e.g. 38)", dn);
    const int per_row = (dn && strlen(dn) > 1) || a.interpolate;
    const long long most = a.format == GANCL_FORMAT_PNG ? 10000 : 1000000;
    a.count = (int)int_arg(c, "--count", per_row ? 10 : 64, 1, a.interpolate || !dn ? most : most / (long long)strlen(dn));
    a.seed = (uint64_t)int_arg(c, "--seed", 1, 0, 9007199254740991LL);
    return a;
}

static int cmd_generate(const cli *c) {
    const sample_args a = generate_args(c);
    if (!gancl_file_exists(a.checkpoint)) gancl_die("--checkpoint %s: no such file", a.checkpoint);
    gancl_runtime rt;
    open_runtime(c, &rt, NULL);
    const gancl_generate_options o = {a.count, a.seed, a.out, a.format, a.digits[0] ? a.digits : NULL, a.interpolate};
    int status = gancl_generate(&rt, a.checkpoint, &o);
    gancl_runtime_free(&rt);
    return status;
}

int main(int argc, char **argv) {
    gancl_signals_install();
    cli c = parse(argc, argv);
    switch (c.cmd) {
    case -1: print_version(); return 0;
    case CMD_LIST: return cmd_list_devices();
    case CMD_SELFTEST: return cmd_self_test(&c);
    case CMD_DOWNLOAD: return cmd_download(&c);
    case CMD_GENERATE: return cmd_generate(&c);
    case CMD_BENCH: return cmd_bench(&c);
    case CMD_TUNE: return cmd_tune(&c);
    case CMD_CLASSIFIER: return cmd_classifier(&c);
    case CMD_SCORE: return cmd_score(&c);
    case CMD_CLASSIFY: return cmd_classify(&c);
    default: return cmd_train(&c);
    }
}
