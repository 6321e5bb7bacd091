/* bench.c: `gan-cl bench`: timing training iterations on random data (no data set needed). */
#define _POSIX_C_SOURCE 200809L
#include "gancl/gan.h"
#include "gancl/gemm.h"
#include "gancl/profile.h"
#include "gancl/selftest.h"
#include "gancl/train.h"

#include <stdlib.h>
#include <time.h>

#define BENCH_IMAGES 4096
#define GROUPS 5

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int gancl_bench(const gancl_runtime *rt, gancl_model model, int batch, int iters, gancl_loss loss) {
    if (batch > BENCH_IMAGES) {
        fprintf(stderr, "gan-cl: error: bench supports --batch-size up to %d\n", BENCH_IMAGES);
        return 1;
    }
    gancl_gan gan;
    gancl_arch arch = gancl_arch_default(model, 100);
    char err[GANCL_ERR_LEN];
    if (gancl_gan_init(&gan, rt, &arch, batch, batch, loss == GANCL_LOSS_WGAN_GP, err)) gancl_die("%s", err);
    gancl_gan_init_params(&gan, 1);
    uint8_t *img = malloc((size_t)BENCH_IMAGES * 784);
    int *perm = malloc(BENCH_IMAGES * sizeof *perm);
    if (!img || !perm) gancl_die("out of host memory");
    uint64_t rng = 7;
    for (size_t i = 0; i < (size_t)BENCH_IMAGES * 784; i++) img[i] = (uint8_t)gancl_splitmix64(&rng);
    for (int i = 0; i < BENCH_IMAGES; i++) perm[i] = (int)(gancl_splitmix64(&rng) % BENCH_IMAGES);
    cl_mem dimg = gancl_buffer(rt, (size_t)BENCH_IMAGES * 784), dperm = gancl_buffer(rt, BENCH_IMAGES * sizeof *perm);
    gancl_write(rt, dimg, 0, (size_t)BENCH_IMAGES * 784, img);
    gancl_write(rt, dperm, 0, BENCH_IMAGES * sizeof *perm, perm);
    free(img);
    free(perm);
    gancl_step_config opt = gancl_step_defaults(loss);
    if (model == GANCL_MODEL_DCGAN && (loss == GANCL_LOSS_BCE || loss == GANCL_LOSS_HINGE)) opt.lr_g = opt.lr_d = 1e-4f;
    const int per_epoch = BENCH_IMAGES / batch;
    long step = 0;
    double t0 = now_s();
    for (int i = 0; i < 3; i++, step++) /* warm-up: kernel compilation, first-touch */
        gancl_train_iteration(&gan, &opt, dimg, dperm, NULL, (size_t)(step % per_epoch) * batch, 1, step);
    CL_CHECK(clFinish(rt->queue));
    double warm = now_s() - t0;
    gancl_prof_harvest(rt);
    if (rt->prof) { /* the warm-up is not part of the profile */
        rt->prof->n_totals = 0;
    }
    int per_group = iters / GROUPS > 0 ? iters / GROUPS : 1;
    double ms[GROUPS], wall = 0;
    for (int g = 0; g < GROUPS; g++) {
        double s = now_s();
        for (int i = 0; i < per_group; i++, step++)
            gancl_train_iteration(&gan, &opt, dimg, dperm, NULL, (size_t)(step % per_epoch) * batch, 1, step);
        CL_CHECK(clFinish(rt->queue));
        double e = now_s() - s;
        wall += e;
        ms[g] = e * 1e3 / per_group;
        gancl_prof_harvest(rt);
    }
    qsort(ms, GROUPS, sizeof *ms, by_value);
    printf("bench: %s, %s loss, batch %d, %s GEMM, on %s\n", gancl_model_name(model), gancl_loss_name(loss), batch,
           gancl_gemm_method_name(rt->gemm), rt->dev.name);
    printf("  warm-up 3 iterations: %.2f s\n", warm);
    printf("  %d x %d iterations: median %.2f ms/iteration (min %.2f, max %.2f), %.0f img/s, %.1f s per 60000-image epoch\n",
           GROUPS, per_group, ms[GROUPS / 2], ms[0], ms[GROUPS - 1], batch * 1e3 / ms[GROUPS / 2],
           ms[GROUPS / 2] * 1e-3 * (60000 / batch));
    if (rt->prof) {
        rt->prof->wall_seconds = wall;
        gancl_prof_report(rt, stdout);
    }
    clReleaseMemObject(dimg);
    clReleaseMemObject(dperm);
    gancl_gan_free(&gan);
    return 0;
}
