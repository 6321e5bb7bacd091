/* test_metrics.c: the metrics.csv reader that --resume uses: files with and without the score
 * columns, and malformed lines (among them what the fuzzer found: an epoch of 1e77, whose cast
 * to int was undefined) refused with the line number. */
#include "testutil.h"
#include "gancl/check.h"
#include "gancl/metrics.h"

#include <math.h>

#define HEADER10 "epoch,step,d_loss,g_loss,d_real,d_fake,w_estimate,gp,img_per_s,elapsed_s"
#define HEADER15 HEADER10 ",fid,precision,recall,inception_score,kl_uniform"
#define HEADER18 HEADER15 ",lab_loss,train_error,test_error"

static int read_text(const char *text, gancl_metrics *m, char *err) {
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    memset(m, 0, sizeof *m);
    err[0] = 0;
    int rc = gancl_metrics_read(m, f, "metrics.csv", 1000000, err);
    fclose(f);
    return rc;
}

static void test_read_formats(void **state) {
    (void)state;
    gancl_metrics m;
    char err[GANCL_ERR_LEN];
    assert_int_equal(read_text(HEADER15 "\n1,50,0.5,0.6,0.7,0.3,0.4,0,100.5,1.5,,,,,\n"
                                         "1,937,0.5,0.6,0.7,0.3,0.4,0,100.5,2.5,28.62,0.816,0.726,8.81,0.01\n", &m, err), 0);
    assert_int_equal(m.n, 2);
    assert_true(isnan(m.rows[0].fid) && isnan(m.rows[0].kl_uniform));
    assert_float_equal(m.rows[1].fid, 28.62, 1e-12);
    assert_float_equal(m.rows[1].recall, 0.726, 1e-12);
    assert_int_equal(m.rows[1].step, 937);
    gancl_metrics_free(&m);
    /* the ssgan's 3 more: written, read back, plotted */
    assert_int_equal(read_text(HEADER18 "\n1,300,0.5,0.6,0.7,0.3,nan,nan,100.5,1.5,,,,,,0.25,0.125,\n"
                                         "1,600,0.5,0.6,0.7,0.3,nan,nan,100.5,2.5,,,,,,0.015625,0,0.0931\n", &m, err), 0);
    assert_int_equal(m.n, 2);
    assert_true(isnan(m.rows[0].test_error) && isnan(m.rows[1].fid) && isnan(m.rows[1].w_estimate));
    assert_float_equal(m.rows[0].lab_loss, 0.25, 1e-12);
    assert_float_equal(m.rows[0].train_error, 0.125, 1e-12);
    assert_float_equal(m.rows[1].test_error, 0.0931, 1e-12);
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    gancl_metrics_csv(&m, f);
    fclose(f);
    assert_non_null(strstr(text, HEADER18 "\n"));
    assert_non_null(strstr(text, ",0.015625,0.000000,0.093100\n"));
    free(text);
    f = open_memstream(&text, &len);
    gancl_metrics_svg(&m, f, "t", 1);
    fclose(f);
    assert_non_null(strstr(text, "test error (%)"));
    free(text);
    gancl_metrics_free(&m);
    /* from before the scores: 10 columns */
    assert_int_equal(read_text(HEADER10 "\n2,100,0.5,0.6,0.7,0.3,0.4,0,100.5,1.5\n", &m, err), 0);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.rows[0].epoch, 2);
    assert_true(isnan(m.rows[0].precision));
    gancl_metrics_free(&m);
}

static void test_malformed_lines(void **state) {
    (void)state;
    const char *bad[] = {
        HEADER15 "\n1e77,50,0.5,0.6,0.7,0.3,0.4,0,100.5,1.5,,,,,\n",       /* the fuzzer's */
        HEADER15 "\n1,-5,0.5,0.6,0.7,0.3,0.4,0,100.5,1.5,,,,,\n",          /* a negative step */
        HEADER15 "\n1.5,50,0.5,0.6,0.7,0.3,0.4,0,100.5,1.5,,,,,\n",        /* a fractional epoch */
        HEADER15 "\n1,50,0.5,0.6,0.7,0.3,0.4,0,100.5,1.5,,,,,,\n",         /* 16 fields */
        HEADER18 "\n1,50,0.5,0.6,0.7,0.3,0.4,0,100.5,1.5,,,,,,1,2,3,4\n",  /* 19 fields */
        HEADER15 "\n1,50,0.5,0.6,0.7,0.3,0.4,0,100.5,1.5,,,\n",            /* 13 fields */
        HEADER15 "\n1,50,0.5,,0.7,0.3,0.4,0,100.5,1.5,,,,,\n",             /* an empty loss */
        HEADER15 "\n1,50,0.5,0.6x,0.7,0.3,0.4,0,100.5,1.5,,,,,\n",         /* trailing junk */
        HEADER15 "\n1,50,0.5,0.6,0.7,0.3,0.4,0,100.5,1.5,1,2,3,4,five\n",  /* a bad score */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        gancl_metrics m;
        char err[GANCL_ERR_LEN];
        if (read_text(bad[i], &m, err) != -1) fail_msg("case %zu was accepted", i);
        if (!strstr(err, "metrics.csv:2: malformed line")) fail_msg("case %zu: %s", i, err);
        gancl_metrics_free(&m);
    }
    gancl_metrics m;
    char err[GANCL_ERR_LEN];
    assert_int_equal(read_text("step,epoch\n1,2\n", &m, err), -1);
    assert_non_null(strstr(err, "not a gan-cl metrics file"));
    gancl_metrics_free(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_formats),
        cmocka_unit_test(test_malformed_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
