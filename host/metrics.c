/* metrics.c: the loss log as CSV and as an SVG plot. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/metrics.h"
#include "gancl/check.h"
#include "gancl/fsutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_HEADER "epoch,step,d_loss,g_loss,d_real,d_fake,w_estimate,gp,img_per_s,elapsed_s"
#define CSV_SCORES ",fid,precision,recall,inception_score,kl_uniform" /* empty when not scored */
#define CSV_SSGAN ",lab_loss,train_error,test_error" /* the ssgan's; empty for the others */
#define N_FIELDS 18

int gancl_metrics_add(gancl_metrics *m, gancl_metric_row row) {
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        gancl_metric_row *g = realloc(m->rows, cap * sizeof *g);
        if (!g) return -1;
        m->rows = g;
        m->cap = cap;
    }
    m->rows[m->n++] = row;
    return 0;
}

void gancl_metrics_free(gancl_metrics *m) {
    free(m->rows);
    memset(m, 0, sizeof *m);
}

int gancl_metrics_load(gancl_metrics *m, const char *path, long max_step, char *err) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int rc = gancl_metrics_read(m, f, path, max_step, err);
    fclose(f);
    return rc;
}

int gancl_metrics_read(gancl_metrics *m, FILE *f, const char *path, long max_step, char *err) {
    char line[512];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (lineno == 1) {
            if (strncmp(line, CSV_HEADER, strlen(CSV_HEADER))) {
                snprintf(err, GANCL_ERR_LEN, "%s: not a gan-cl metrics file (unexpected header)", path);
                rc = -1;
                break;
            }
            continue;
        }
        /* the 10 loss columns, then the 5 score columns (empty when not scored; absent in
         * files from before the scores), then the ssgan's 3 (empty for other models; absent in
         * older files) */
        line[strcspn(line, "\r\n")] = 0;
        double v[N_FIELDS];
        int nf = 0, ok = 1;
        for (char *p = line;; nf++) {
            const size_t len = strcspn(p, ",");
            char *end;
            if (nf >= N_FIELDS) {
                ok = 0;
                break;
            }
            v[nf] = strtod(p, &end);
            if (len == 0 && nf >= 10) v[nf] = NAN;
            else if (end != p + len || len == 0) ok = 0;
            if (!p[len]) break;
            p += len + 1;
        }
        nf++;
        /* epoch and step: whole numbers in range (a cast of anything else is undefined) */
        if (ok && !(v[0] >= 0 && v[0] <= 1e9 && v[0] == (double)(long)v[0] && v[1] >= 0 && v[1] <= 1e15 &&
                    v[1] == (double)(long)v[1]))
            ok = 0;
        if (!ok || (nf != 10 && nf != 15 && nf != N_FIELDS)) {
            snprintf(err, GANCL_ERR_LEN, "%s:%d: malformed line", path, lineno);
            rc = -1;
            break;
        }
        for (int k = nf; k < N_FIELDS; k++) v[k] = NAN;
        gancl_metric_row r = {(int)v[0], (long)v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
                              v[10], v[11], v[12], v[13], v[14], v[15], v[16], v[17]};
        if (r.step <= max_step && gancl_metrics_add(m, r)) {
            snprintf(err, GANCL_ERR_LEN, "out of host memory");
            rc = -1;
            break;
        }
    }
    return rc;
}

void gancl_metrics_csv(const gancl_metrics *m, FILE *out) {
    fprintf(out, CSV_HEADER CSV_SCORES CSV_SSGAN "\n");
    for (size_t i = 0; i < m->n; i++) {
        const gancl_metric_row *r = &m->rows[i];
        fprintf(out, "%d,%ld,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.1f,%.3f", r->epoch, r->step,
                r->d_loss, r->g_loss, r->d_real, r->d_fake, r->w_estimate, r->gp, r->img_per_s,
                r->elapsed_s);
        const double sc[8] = {r->fid, r->precision, r->recall, r->is, r->kl_uniform, r->lab_loss, r->train_error,
                              r->test_error};
        for (int k = 0; k < 8; k++) {
            if (isfinite(sc[k])) fprintf(out, ",%.6f", sc[k]);
            else fputc(',', out);
        }
        fputc('\n', out);
    }
}

int gancl_metrics_write_csv(const gancl_metrics *m, const char *path, char *err) {
    gancl_atomic_file f;
    if (gancl_atomic_open(&f, path, err)) return -1;
    gancl_metrics_csv(m, f.fp);
    return gancl_atomic_commit(&f, err);
}

/* One panel: series (offsets into the row struct) as polylines, with axes and a legend. */
typedef struct {
    const char *label;
    size_t field; /* offsetof into gancl_metric_row */
    const char *colour;
    double scale; /* plotted times this */
} series;

static double field(const gancl_metric_row *r, const series *s) {
    return *(const double *)((const char *)r + s->field) * s->scale;
}

static void panel(FILE *f, const gancl_metrics *m, const series *s, int ns, int y0, const char *ylabel,
                  double lo_fixed, double hi_fixed) {
    const int x0 = 70, w = 660, h = 220;
    double lo = lo_fixed, hi = hi_fixed;
    if (lo >= hi) { /* autoscale, ignoring non-finite values */
        lo = INFINITY;
        hi = -INFINITY;
        for (size_t i = 0; i < m->n; i++)
            for (int k = 0; k < ns; k++) {
                double v = field(&m->rows[i], &s[k]);
                if (isfinite(v)) {
                    lo = v < lo ? v : lo;
                    hi = v > hi ? v : hi;
                }
            }
        if (!(lo < hi)) {
            lo = isfinite(lo) ? lo - 1 : 0;
            hi = lo + 2;
        }
        lo = lo > 0 ? 0 : lo;
    }
    long s0 = m->n ? m->rows[0].step : 0, s1 = m->n ? m->rows[m->n - 1].step : 1;
    if (s1 <= s0) s1 = s0 + 1;
    fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='white' stroke='#888'/>\n", x0, y0, w, h);
    for (int t = 0; t <= 4; t++) {
        double v = lo + (hi - lo) * t / 4;
        int y = y0 + h - h * t / 4;
        fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#eee'/>", x0, y, x0 + w, y);
        fprintf(f, "<text x='%d' y='%d' text-anchor='end' font-size='11'>%.3g</text>\n", x0 - 5, y + 4, v);
    }
    fprintf(f, "<text x='15' y='%d' font-size='12' transform='rotate(-90 15 %d)' text-anchor='middle'>%s</text>\n",
            y0 + h / 2, y0 + h / 2, ylabel);
    fprintf(f, "<text x='%d' y='%d' font-size='11'>step %ld</text><text x='%d' y='%d' font-size='11' "
               "text-anchor='end'>step %ld</text>\n", x0, y0 + h + 15, s0, x0 + w, y0 + h + 15, s1);
    for (int k = 0; k < ns; k++) {
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", s[k].colour);
        for (size_t i = 0; i < m->n; i++) {
            double v = field(&m->rows[i], &s[k]);
            if (!isfinite(v)) continue;
            v = v < lo ? lo : v > hi ? hi : v;
            fprintf(f, "%.1f,%.1f ", x0 + (double)w * (m->rows[i].step - s0) / (s1 - s0),
                    y0 + h - h * (v - lo) / (hi - lo));
        }
        fprintf(f, "'/>\n<text x='%d' y='%d' font-size='12' fill='%s'>%s</text>\n", x0 + 10 + 120 * k,
                y0 - 6, s[k].colour, s[k].label);
    }
}

void gancl_metrics_svg(const gancl_metrics *m, FILE *out, const char *title, int probabilities) {
    int scored = 0, tested = 0;
    for (size_t i = 0; i < m->n; i++) {
        scored |= isfinite(m->rows[i].fid);
        tested |= isfinite(m->rows[i].test_error);
    }
    fprintf(out, "<svg xmlns='http://www.w3.org/2000/svg' width='760' height='%d' "
                  "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='#fafafa'/>\n",
            580 + (scored ? 560 : 0) + (tested ? 280 : 0));
    fprintf(out, "<text x='380' y='22' text-anchor='middle' font-size='15'>");
    for (const char *c = title; *c; c++) { /* escape for XML */
        if (*c == '<') fputs("&lt;", out);
        else if (*c == '&') fputs("&amp;", out);
        else fputc(*c, out);
    }
    fputs("</text>\n", out);
    const series losses[] = {{"D loss", offsetof(gancl_metric_row, d_loss), "#1f77b4", 1},
                             {"G loss", offsetof(gancl_metric_row, g_loss), "#d62728", 1}};
    const series outputs[] = {{"D(x)", offsetof(gancl_metric_row, d_real), "#2ca02c", 1},
                              {"D(G(z))", offsetof(gancl_metric_row, d_fake), "#ff7f0e", 1},
                              {"W estimate", offsetof(gancl_metric_row, w_estimate), "#9467bd", 1}};
    panel(out, m, losses, 2, 50, "loss", 0, 0);
    if (probabilities) panel(out, m, outputs, 2, 330, "D output (probability)", 0, 1);
    else panel(out, m, outputs, 3, 330, "critic score", 0, 0);
    if (scored) {
        const series fid[] = {{"FID (gan-cl's classifier)", offsetof(gancl_metric_row, fid), "#8c564b", 1}};
        const series pr[] = {{"precision", offsetof(gancl_metric_row, precision), "#17becf", 1},
                             {"recall", offsetof(gancl_metric_row, recall), "#e377c2", 1}};
        panel(out, m, fid, 1, 610, "FID (lower is better)", 0, 0);
        panel(out, m, pr, 2, 890, "precision, recall", 0, 1);
    }
    if (tested) {
        const series err[] = {{"test error (%)", offsetof(gancl_metric_row, test_error), "#d62728", 100},
                              {"train error, labelled batches (%)", offsetof(gancl_metric_row, train_error),
                               "#1f77b4", 100}};
        panel(out, m, err, 2, scored ? 1170 : 610, "error (%)", 0, 0);
    }
    fputs("</svg>\n", out);
}

int gancl_metrics_write_svg(const gancl_metrics *m, const char *path, const char *title,
                            int probabilities, char *err) {
    gancl_atomic_file f;
    if (gancl_atomic_open(&f, path, err)) return -1;
    gancl_metrics_svg(m, f.fp, title, probabilities);
    return gancl_atomic_commit(&f, err);
}
