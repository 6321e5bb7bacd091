/* test_tune.c: GEMM tuning: a real tune run (interrupted, then resumed) whose per-shape plan is
 * applied and followed, checked against the C reference; damaged or foreign tuning files
 * rejected and deleted (the next tune then starts from nothing, as the first run here almost
 * does: only CLBlast's default set was measured before it). On a GPU (the device posing as
 * one), the kernels blocked for CPUs are never measured or planned. */
#include "gancl/device.h"
#include "gancl/fsutil.h"
#include "gancl/gemm.h"
#include "gancl/selftest.h"
#include "gancl/tune.h"
#include "testutil.h"

#include <dirent.h>
#include <math.h>

static gancl_device_info device;
static gancl_runtime rt;
static char cache_root[512], path[4096];

static gancl_tuning_status apply(int batch, char *msg) {
    const gancl_workload w = gancl_workload_default(GANCL_MODEL_MLP, batch, GANCL_LOSS_BCE);
    return gancl_tuning_apply(&rt, &w, msg, GANCL_ERR_LEN);
}

/* Runs tune (full or quick) for the MLP at `batch`; returns its output (static). */
static const char *tune_with(int batch, gancl_tune_mode mode) {
    static char text[16384];
    FILE *out = tmpfile();
    const gancl_workload w = gancl_workload_default(GANCL_MODEL_MLP, batch, GANCL_LOSS_BCE);
    assert_int_equal(gancl_tune(&rt, &w, mode, out, 0), 0);
    rewind(out);
    size_t n = fread(text, 1, sizeof text - 1, out);
    text[n] = 0;
    fclose(out);
    print_message("%s", text);
    return text;
}

static const char *tune(int batch) { return tune_with(batch, GANCL_TUNE_FULL); }

/* One product of shape s through gancl_gemm (the AUTO path) on random operands against the C
 * reference (`what` names it in a failure). */
static void expect_gemm_right(const gancl_gemm_shape *s, uint64_t seed, const char *what) {
    size_t na = s->M * s->K, nb = s->K * s->N, nc = s->M * s->N;
    float *A = malloc(na * 4), *B = malloc(nb * 4), *C = malloc(nc * 4), *R = malloc(nc * 4);
    assert_true(A && B && C && R);
    for (size_t k = 0; k < na; k++) A[k] = gancl_uniform(&seed, -1, 1);
    for (size_t k = 0; k < nb; k++) B[k] = gancl_uniform(&seed, -1, 1);
    cl_mem a = gancl_buffer(&rt, na * 4), b = gancl_buffer(&rt, nb * 4), c = gancl_buffer(&rt, nc * 4);
    gancl_write(&rt, a, 0, na * 4, A);
    gancl_write(&rt, b, 0, nb * 4, B);
    gancl_gemm(&rt, s->ta, s->tb, s->M, s->N, s->K, 1.0f, a, 0, b, 0, 0.0f, c, 0);
    gancl_read(&rt, c, 0, nc * 4, C);
    gancl_gemm_ref(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, B, 0.0f, R);
    for (size_t k = 0; k < nc; k++)
        if (!(fabs(C[k] - R[k]) <= 1e-4 * (1 + fabs(R[k])))) fail_msg("%s: C[%zu] = %g, reference %g", what, k, C[k], R[k]);
    clReleaseMemObject(a);
    clReleaseMemObject(b);
    clReleaseMemObject(c);
    free(A);
    free(B);
    free(C);
    free(R);
}

/* Every shape of the plan through the AUTO path against the C reference. */
static void check_plan_followed(void) {
    assert_non_null(rt.gemm_plan);
    assert_true(rt.gemm_plan->n > 0);
    for (int i = 0; i < rt.gemm_plan->n; i++) {
        char what[64];
        snprintf(what, sizeof what, "shape %d by %s", i, gancl_gemm_method_name(rt.gemm_plan->method[i]));
        expect_gemm_right(&rt.gemm_plan->shapes[i], 5 + (uint64_t)i, what);
    }
}

/* The tuning file as a string (free it). */
static char *read_tuning(void) {
    uint8_t *bytes;
    size_t n;
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_read_file(path, &bytes, &n, err), 0);
    char *text = malloc(n + 1);
    assert_non_null(text);
    memcpy(text, bytes, n);
    text[n] = 0;
    free(bytes);
    return text;
}

/* The quick tune of first use: on a CPU no CLBlast and no `matmul` (both far slower there),
 * every shape planned, the plan applied and followed; a full tune afterwards adds the CLBlast
 * parameter search and CLBlast on each shape, and names the model as fully tuned. */
static void test_quick_tune(void **state) {
    (void)state;
    char msg[GANCL_ERR_LEN];
    assert_int_equal(gancl_tuning_path(&rt, path, sizeof path), 0);
    remove(path);
    assert_int_equal(apply(16, msg), GANCL_TUNING_NONE);
    const char *text = tune_with(16, GANCL_TUNE_QUICK);
    int done = 0, all = -1;
    const char *summary = strstr(text, "GEMMs tuned for this device in");
    assert_non_null(summary);
    assert_int_equal(sscanf(strstr(summary, ": ") + 2, "%d of %d shapes", &done, &all), 2);
    assert_true(all > 5);
    assert_int_equal(done, all);
    char *file = read_tuning();
    assert_non_null(strstr(file, "\"clblast\": {\n  }")); /* no CLBlast set measured */
    assert_null(strstr(file, "clblast_best"));
    const char *shapes = strstr(file, "\"shapes\": {");
    assert_non_null(shapes);
    assert_null(strstr(shapes, "\"clblast\": ")); /* nor CLBlast on any shape */
    assert_null(strstr(file, "\"matmul\": ")); /* nor the local-memory kernels */
    assert_null(strstr(file, "\"tiled-4x4\": "));
    /* every other kernel was timed on some shape (the tuner once had room for 16 methods and
     * left the 17th out; a file naming it was then read past its rows and deleted) */
    for (gancl_gemm_method m = GANCL_GEMM_CLBLAST + 1; (device.type & CL_DEVICE_TYPE_CPU) && m < gancl_gemm_method_count(); m++) {
        char key[64];
        snprintf(key, sizeof key, "\"%s\": ", gancl_gemm_method_name(m));
        if (!gancl_gemm_method_gpu_shaped(m) && !strstr(shapes, key)) fail_msg("the quick tune never timed %s", key);
    }
    assert_non_null(strstr(file, "\"tuned_for\": []"));
    assert_int_equal(apply(16, msg), GANCL_TUNING_APPLIED); /* every shape of b16 has a choice */
    assert_non_null(strstr(msg, "CLBlast with its own parameters"));
    check_plan_followed();
    assert_int_equal(apply(24, msg), GANCL_TUNING_OTHER_SHAPES);

    /* a shape the quick tune timed on a slice is timed again, whole, by the full search: the
     * first planned shape posing as one, its chosen method's rate raised to 99999 */
    assert_non_null(strstr(file, "\"sliced\": ["));
    char key[64], method[32], *pl = strstr(file, "\"plan\": {\n    \"");
    assert_non_null(pl);
    assert_int_equal(sscanf(pl + strlen("\"plan\": {\n    \""), "%63[^\"]\": \"%31[^\"]", key, method), 2);
    char *marked = malloc(strlen(file) + 256), find[128];
    assert_non_null(marked);
    snprintf(find, sizeof find, "\"%s\": {", key);
    char *row = strstr(strstr(file, "\"shapes\": {"), find), *rate = NULL;
    assert_non_null(row);
    snprintf(find, sizeof find, "\"%s\": ", method);
    rate = strstr(row, find);
    assert_true(rate && rate < strchr(row, '}'));
    rate += strlen(find);
    const char *sl = strstr(file, "\"sliced\": [");
    assert_true(sl > rate);
    sl += strlen("\"sliced\": [");
    sprintf(marked, "%.*s99999.00%.*s\"%s\"%s%s", (int)(rate - file), file, (int)(sl - strpbrk(rate, ",}")),
            strpbrk(rate, ",}"), key, *sl == ']' ? "" : ", ", sl);
    write_bytes(path, marked, strlen(marked));
    free(marked);
    text = tune(16); /* the full search goes on from the quick one */
    assert_non_null(strstr(text, "CLBlast parameter sets"));
    assert_null(strstr(text, "(measured before)"));
    char *full = read_tuning();
    assert_non_null(strstr(full, "\"clblast_best\": "));
    const char *full_shapes = strstr(full, "\"shapes\": {");
    assert_non_null(full_shapes);
    assert_non_null(strstr(full_shapes, "\"clblast\": ")); /* CLBlast on the shapes */
    assert_non_null(strstr(full, "\"tuned_for\": [\"mlp b16\"]"));
    assert_non_null(strstr(full, "\"sliced\": []"));
    assert_null(strstr(full, "99999")); /* the marked shape was timed again */
    free(full);
    free(file);
    assert_int_equal(apply(16, msg), GANCL_TUNING_APPLIED);
    check_plan_followed();
    remove(path);
}

/* Tuning on the fly: with the tuner on, a shape first met is tuned before it runs (its choice in
 * the runtime's plan and in the file), and the product is right. */
static void test_tuned_when_first_met(void **state) {
    (void)state;
    char msg[GANCL_ERR_LEN];
    remove(path);
    gancl_tuning_prepare(&rt, NULL, 1, NULL);
    assert_non_null(rt.tuner);
    const size_t M = 45, N = 70, K = 33;
    assert_true(gancl_gemm_plan_find(rt.gemm_plan, 0, 1, M, N, K) < 0);
    const gancl_gemm_shape shape = {0, 1, M, N, K, 1};
    expect_gemm_right(&shape, 9, "NT 45x70x33, tuned when first met");
    const int k = gancl_gemm_plan_find(rt.gemm_plan, 0, 1, M, N, K);
    assert_true(k >= 0);
    assert_true(rt.gemm_plan->method[k] >= 0);
    const gancl_gemm_method chosen = rt.gemm_plan->method[k];
    print_message("NT 45x70x33 tuned when first met: %s\n", gancl_gemm_method_name(chosen));
    char *file = read_tuning();
    assert_non_null(strstr(file, "\"NT 45x70x33\": \""));  /* in the stored plan */
    free(file);
    /* the next runtime finds its choice stored, so it is not tuned again */
    assert_int_equal(gancl_tuning_apply(&rt, NULL, msg, sizeof msg), GANCL_TUNING_APPLIED);
    const int stored = gancl_gemm_plan_find(rt.gemm_plan, 0, 1, M, N, K);
    assert_true(stored >= 0);
    assert_int_equal(rt.gemm_plan->method[stored], chosen);
    /* a long product (about 1.7 GFLOP, 15-40 ms here) is timed on a slice; the method chosen
     * there must be right on the whole of it, edges included (2500 = 6 x 416 + 4 rows, 1100 =
     * 16 x 68 + 12 columns) */
    const gancl_gemm_shape longer = {0, 0, 2500, 1100, 300, 1};
    expect_gemm_right(&longer, 10, "NN 2500x1100x300, tuned when first met");
    const int kl = gancl_gemm_plan_find(rt.gemm_plan, 0, 0, 2500, 1100, 300);
    assert_true(kl >= 0 && rt.gemm_plan->method[kl] >= 0);
    print_message("NN 2500x1100x300 tuned when first met: %s\n", gancl_gemm_method_name(rt.gemm_plan->method[kl]));
    free(rt.tuner);
    rt.tuner = NULL;
    remove(path);
}

/* The slice a quick tune times in place of a long product: the largest dimension cut, to a
 * multiple of 192 and no less than 768, never grown, and keeping twice the cache in inputs
 * when the whole product's exceed it. */
static void test_slice(void **state) {
    (void)state;
    const gancl_gemm_shape score = {0, 1, 10000, 1677, 128, 1};
    gancl_gemm_shape s = gancl_tune_slice(score, 0.3, 0); /* 3000 -> 16 x 192 */
    assert_true(s.ta == 0 && s.tb == 1 && s.M == 3072 && s.N == 1677 && s.K == 128 && s.count == 1);
    const gancl_gemm_shape wgrad = {0, 1, 128, 1600, 25088, 1}; /* a long k: k is cut */
    s = gancl_tune_slice(wgrad, 0.1, 0); /* 2508.8 -> 14 x 192 */
    assert_true(s.M == 128 && s.N == 1600 && s.K == 2688);
    const gancl_gemm_shape wide = {1, 0, 64, 25088, 288, 1};
    s = gancl_tune_slice(wide, 0.001, 0); /* 25 -> the floor, 768 */
    assert_true(s.M == 64 && s.N == 768 && s.K == 288);
    const gancl_gemm_shape small = {0, 0, 500, 300, 200, 1};
    s = gancl_tune_slice(small, 0.5, 0); /* 250 -> 768 > 500: unchanged */
    assert_true(s.M == 500 && s.N == 300 && s.K == 200);
    s = gancl_tune_slice(score, 1.0, 0); /* 10000 -> 10176 > 10000: unchanged */
    assert_true(s.M == 10000 && s.N == 1677 && s.K == 128);
    /* the DCGAN's 256 x 12544 x 3200 (164 MB of inputs) and a 32 MiB cache: a slice of 1% would
     * keep 2 MB, one of 64 MiB needs 4(256 x 3200 + 3200 N) >= 2^26, N >= 4986.9 -> 26 x 192 */
    const double mib = 1024.0 * 1024;
    const gancl_gemm_shape dgrad = {0, 0, 256, 12544, 3200, 1};
    s = gancl_tune_slice(dgrad, 0.01, 32 * mib);
    assert_true(s.M == 256 && s.N == 4992 && s.K == 3200);
    s = gancl_tune_slice(dgrad, 0.5, 32 * mib); /* 6272 -> 33 x 192: above the floor */
    assert_true(s.N == 6336);
    s = gancl_tune_slice(dgrad, 0.01, 100 * mib); /* over the cache, under twice it: whole */
    assert_true(s.N == 12544);
    s = gancl_tune_slice(dgrad, 0.01, 200 * mib); /* all in the cache: sliced freely, to 768 */
    assert_true(s.N == 768);
}

/* First use from the command line: bench tunes by itself, once; --no-tune does not. */
static void test_first_use(void **state) {
    (void)state;
    char dir[512], xdg[600];
    make_temp_dir(dir, sizeof dir);
    snprintf(xdg, sizeof xdg, "XDG_CACHE_HOME=%s", dir);
    char *env[] = {xdg, NULL};
    assert_int_equal(run_gan(env, "bench", "--batch-size", "8", "--iters", "2", "--no-tune", NULL), 0);
    EXPECT("GEMMs are not tuned for this device (--no-tune)");
    char tuning[700];
    snprintf(tuning, sizeof tuning, "%s/gan-cl/tuning", dir);
    DIR *d = opendir(tuning);
    int files = 0;
    for (struct dirent *e; d && (e = readdir(d));) files += e->d_name[0] != '.';
    if (d) closedir(d);
    assert_int_equal(files, 0);
    assert_int_equal(run_gan(env, "bench", "--batch-size", "8", "--iters", "2", NULL), 0);
    EXPECT("GEMMs tuned for this device in");
    EXPECT("ms/iteration");
    assert_int_equal(run_gan(env, "bench", "--batch-size", "8", "--iters", "2", NULL), 0);
    assert_null(strstr(gan_out, "GEMMs tuned for this device in")); /* once */
    EXPECT("GEMM tuned for this device: CLBlast with its own parameters");
    remove_tree(dir);
    make_temp_dir(dir, sizeof dir); /* --quiet: tuned all the same, silently */
    snprintf(xdg, sizeof xdg, "XDG_CACHE_HOME=%s", dir);
    assert_int_equal(run_gan(env, "bench", "--batch-size", "8", "--iters", "2", "--quiet", NULL), 0);
    assert_null(strstr(gan_out, "tuned"));
    assert_int_equal(run_gan(env, "bench", "--batch-size", "8", "--iters", "2", "--profile", NULL), 0);
    EXPECT("GEMM tuned for this device: CLBlast with its own parameters");
    /* the profile names each GEMM by its transposes, shape and method: G's first product */
    EXPECT("\n  gemm NT 8x256x100 ");
    remove_tree(dir);
}

static void test_tune_apply_and_reject(void **state) {
    (void)state;
    char msg[GANCL_ERR_LEN];
    assert_int_equal(gancl_tuning_path(&rt, path, sizeof path), 0);
    assert_int_equal(apply(16, msg), GANCL_TUNING_NONE);

    /* an interrupted run: only CLBlast's default measured, nothing chosen yet */
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/gan-cl/tuning", cache_root);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    char partial[1024];
    snprintf(partial, sizeof partial,
             "{\"format\": \"gan-cl-tuning\", \"version\": 4, \"device\": \"%s\", \"driver\": \"%s\", "
             "\"clblast\": {\"default\": 7.5}}", rt.dev.name, rt.dev.driver_version);
    write_bytes(path, partial, strlen(partial));
    assert_int_equal(apply(16, msg), GANCL_TUNING_NONE);

    const char *text = tune(16);
    if (!strstr(text, "resuming from") || !strstr(text, "(measured before)") || !strstr(text, "with the plan"))
        fail_msg("unexpected tune output:\n%s", text);

    assert_int_equal(apply(16, msg), GANCL_TUNING_APPLIED);
    print_message("%s\n", msg);
    check_plan_followed();
    /* another batch size: applied (shapes it shares) with a note on how to tune it */
    assert_int_equal(apply(24, msg), GANCL_TUNING_OTHER_SHAPES);
    assert_non_null(strstr(msg, "GEMM shapes are not tuned yet"));

    uint8_t *good;
    size_t good_n;
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_read_file(path, &good, &good_n, err), 0);
    good[good_n - 1] = 0; /* its last byte is a newline */
    char bad[7][16384];
    const char *head = "{\"format\": \"gan-cl-tuning\", \"version\": 4";
    snprintf(bad[0], sizeof bad[0], "this is not JSON");
    snprintf(bad[1], sizeof bad[1], "%s, \"device\": \"another GPU\", \"driver\": \"%s\", \"clblast\": "
             "{\"default\": 7.5}, \"clblast_best\": \"default\"}", head, rt.dev.driver_version);
    snprintf(bad[2], sizeof bad[2], "%s, \"device\": \"%s\", \"driver\": \"%s\", \"clblast\": "
             "{\"default\": 7.5}, \"clblast_best\": \"no-such-set\"}", head, rt.dev.name, rt.dev.driver_version);
    snprintf(bad[3], sizeof bad[3], "%.*s", (int)(good_n / 2), (const char *)good); /* truncated */
    /* a kernel that cannot compute A B^T chosen for an A B^T shape */
    snprintf(bad[4], sizeof bad[4], "%s, \"device\": \"%s\", \"driver\": \"%s\", \"clblast\": {\"default\": 7.5}, "
             "\"clblast_best\": \"default\", \"shapes\": {\"NT 16x256x100\": {\"xn-8x32\": 50}}}", head,
             rt.dev.name, rt.dev.driver_version);
    /* a choice that was never measured */
    snprintf(bad[5], sizeof bad[5], "%s, \"device\": \"%s\", \"driver\": \"%s\", \"clblast\": {\"default\": 7.5}, "
             "\"clblast_best\": \"default\", \"shapes\": {\"NT 16x256x100\": {\"clblast\": 50}}, "
             "\"plan\": {\"NT 16x256x100\": \"nt-4x4\"}}", head, rt.dev.name, rt.dev.driver_version);
    /* the tuned file with an older version number */
    char *v = strstr((char *)good, "\"version\": 4");
    assert_non_null(v);
    v[11] = '1';
    snprintf(bad[6], sizeof bad[6], "%s", (const char *)good);
    v[11] = '4';
    for (int i = 0; i < 7; i++) {
        write_bytes(path, bad[i], strlen(bad[i]));
        assert_int_equal(apply(16, msg), GANCL_TUNING_REJECTED);
        assert_non_null(strstr(msg, "rejected"));
        assert_false(gancl_file_exists(path)); /* deleted, so the next tune rebuilds it */
        assert_int_equal(apply(16, msg), GANCL_TUNING_NONE);
    }
    /* the intact file is accepted again */
    write_bytes(path, good, strlen((const char *)good));
    assert_int_equal(apply(16, msg), GANCL_TUNING_APPLIED);

    /* a method with no measurement on a tuned shape (a kernel added since): tune measures it
     * and chooses again, leaving the other measurements alone. The method taken out is the
     * tiled `matmul`, never the fastest, so the file stays consistent (a chosen method
     * without its measurement is rejected instead, as tested above) */
    char *m = strstr((char *)good, ", \"matmul\": "), *line = m, key[64];
    assert_non_null(m);
    while (line > (char *)good && line[-1] != '\n') line--;
    assert_int_equal(sscanf(line, " \"%63[^\"]\"", key), 1); /* the shape, e.g. NT 16x256x100 */
    char *end = strpbrk(m + 2, ",}"); /* the end of this one measurement */
    assert_non_null(end);
    memmove(m, end, strlen(end) + 1);
    write_bytes(path, good, strlen((const char *)good));
    text = tune(16);
    assert_null(strstr(text, "starting over"));
    uint8_t *after;
    size_t after_n;
    assert_int_equal(gancl_read_file(path, &after, &after_n, err), 0);
    after[after_n - 1] = 0; /* its last byte is a newline */
    char *shape = strstr((char *)after, key);
    assert_non_null(shape);
    char *shape_end = strchr(shape, '}');
    *shape_end = 0;
    assert_non_null(strstr(shape, "\"matmul\": "));
    free(after);
    free(good);
}

/* On a GPU (the PoCL device posing as one) tuning never tries the kernels blocked for CPUs,
 * and a tuning file that chose one is rejected. */
static void test_gpu_never_gets_cpu_kernels(void **state) {
    (void)state;
    int cpu_only = 0;
    gancl_device_info gpu = rt.dev;
    gpu.type = CL_DEVICE_TYPE_GPU;
    for (gancl_gemm_method m = 0; m < gancl_gemm_method_count(); m++) {
        cpu_only += gancl_gemm_method_cpu_only(m);
        assert_true(gancl_gemm_method_suits(m, &rt.dev)); /* the CPU takes every one */
        assert_int_equal(gancl_gemm_method_suits(m, &gpu), !gancl_gemm_method_cpu_only(m));
    }
    assert_int_equal(cpu_only, 16); /* 5 xn, 4 nt, blk-64x32, pk, pb and pt in 8x32 and 6x16 */
    assert_false(gancl_gemm_method_cpu_only(GANCL_GEMM_CLBLAST));
    assert_false(gancl_gemm_method_cpu_only(GANCL_GEMM_MATMUL));
    const cl_device_type real = rt.dev.type;
    rt.dev.type = CL_DEVICE_TYPE_GPU;
    char msg[GANCL_ERR_LEN];
    /* the CPU's plan (from the test above) has register-blocked kernels: rejected on a GPU */
    int chose_cpu_only = 0;
    for (int i = 0; rt.gemm_plan && i < rt.gemm_plan->n; i++) chose_cpu_only |= gancl_gemm_method_cpu_only(rt.gemm_plan->method[i]);
    if (chose_cpu_only) {
        assert_int_equal(apply(16, msg), GANCL_TUNING_REJECTED);
        assert_non_null(strstr(msg, "a kernel blocked for CPUs, for this GPU"));
        assert_false(gancl_file_exists(path));
    } else {
        print_message("the CPU's plan chose no CPU-only kernel: the rejection is not exercised\n");
        remove(path);
    }
    (void)tune(8);
    assert_int_equal(apply(8, msg), GANCL_TUNING_APPLIED);
    for (int i = 0; i < rt.gemm_plan->n; i++)
        if (gancl_gemm_method_cpu_only(rt.gemm_plan->method[i]))
            fail_msg("shape %d planned with %s on a GPU", i, gancl_gemm_method_name(rt.gemm_plan->method[i]));
    uint8_t *file;
    size_t n;
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_read_file(path, &file, &n, err), 0);
    file[n - 1] = 0; /* its last byte is a newline */
    for (gancl_gemm_method m = 0; m < gancl_gemm_method_count(); m++) {
        char key[40];
        snprintf(key, sizeof key, "\"%s\": ", gancl_gemm_method_name(m));
        if (gancl_gemm_method_cpu_only(m) && strstr((char *)file, key))
            fail_msg("%s was measured on a GPU", gancl_gemm_method_name(m));
    }
    free(file);
    rt.dev.type = real;
    remove(path);
}

FRESH_RUNTIME_GROUP(rt, device, cache_root)

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quick_tune),
        cmocka_unit_test(test_tuned_when_first_met),
        cmocka_unit_test(test_slice),
        cmocka_unit_test(test_first_use),
        cmocka_unit_test(test_tune_apply_and_reject),
        cmocka_unit_test(test_gpu_never_gets_cpu_kernels),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
