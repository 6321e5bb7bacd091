/* score.c: the scores of score.h: feature statistics, the symmetric eigendecomposition and
 * FID, the class scores, precision and recall on the device and their C references, and
 * scoring images against a reference set. */
#include "gancl/score.h"
#include "gancl/gemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t gram_max = (size_t)1 << 24; /* floats of one block of dot products (64 MiB) */

void gancl_score_set_block_limit(size_t floats) { gram_max = floats ? floats : (size_t)1 << 24; }

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) gancl_die("out of host memory (%zu bytes)", bytes);
    return p;
}

void gancl_feature_stats(const float *feat, int n, int dim, double *mu, double *cov) {
    for (int j = 0; j < dim; j++) mu[j] = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < dim; j++) mu[j] += feat[(size_t)i * dim + j];
    for (int j = 0; j < dim; j++) mu[j] /= n;
    double *c = xmalloc((size_t)dim * sizeof *c);
    memset(cov, 0, (size_t)dim * dim * sizeof *cov);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < dim; j++) c[j] = feat[(size_t)i * dim + j] - mu[j];
        for (int j = 0; j < dim; j++)
            for (int k = j; k < dim; k++) cov[(size_t)j * dim + k] += c[j] * c[k];
    }
    for (int j = 0; j < dim; j++)
        for (int k = j; k < dim; k++) {
            cov[(size_t)j * dim + k] /= n > 1 ? n - 1 : 1;
            cov[(size_t)k * dim + j] = cov[(size_t)j * dim + k];
        }
    free(c);
}

void gancl_symeig(double *a, int n, double *w, double *v) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) v[(size_t)i * n + j] = i == j;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, total = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                const double x = a[(size_t)i * n + j] * a[(size_t)i * n + j];
                total += x;
                if (i != j) off += x;
            }
        if (off <= 1e-30 * total || off == 0) break;
        for (int p = 0; p < n - 1; p++)
            for (int q = p + 1; q < n; q++) {
                const double apq = a[(size_t)p * n + q];
                if (apq == 0) continue;
                /* the rotation that zeroes a[p][q]: t = tan(angle), the smaller root */
                const double theta = (a[(size_t)q * n + q] - a[(size_t)p * n + p]) / (2 * apq);
                const double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                const double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) { /* columns p and q */
                    const double akp = a[(size_t)k * n + p], akq = a[(size_t)k * n + q];
                    a[(size_t)k * n + p] = c * akp - s * akq;
                    a[(size_t)k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++) { /* rows p and q */
                    const double apk = a[(size_t)p * n + k], aqk = a[(size_t)q * n + k];
                    a[(size_t)p * n + k] = c * apk - s * aqk;
                    a[(size_t)q * n + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < n; k++) {
                    const double vkp = v[(size_t)k * n + p], vkq = v[(size_t)k * n + q];
                    v[(size_t)k * n + p] = c * vkp - s * vkq;
                    v[(size_t)k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    for (int i = 0; i < n; i++) w[i] = a[(size_t)i * n + i];
    for (int i = 1; i < n; i++) /* ascending, eigenvectors along */
        for (int j = i; j > 0 && w[j - 1] > w[j]; j--) {
            const double t = w[j];
            w[j] = w[j - 1];
            w[j - 1] = t;
            for (int k = 0; k < n; k++) {
                const double x = v[(size_t)k * n + j];
                v[(size_t)k * n + j] = v[(size_t)k * n + j - 1];
                v[(size_t)k * n + j - 1] = x;
            }
        }
}

/* out = x y (n x n). */
static void matmul(double *out, const double *x, const double *y, int n) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += x[(size_t)i * n + k] * y[(size_t)k * n + j];
            out[(size_t)i * n + j] = s;
        }
}

double gancl_fid(const double *mu1, const double *c1, const double *mu2, const double *c2, int dim) {
    const size_t nn = (size_t)dim * dim;
    double *a = xmalloc(nn * sizeof *a), *v = xmalloc(nn * sizeof *v), *s = xmalloc(nn * sizeof *s),
           *t = xmalloc(nn * sizeof *t), *w = xmalloc((size_t)dim * sizeof *w);
    memcpy(a, c1, nn * sizeof *a);
    gancl_symeig(a, dim, w, v);
    for (int i = 0; i < dim; i++) /* s = v diag(sqrt(w)) v^T */
        for (int j = 0; j < dim; j++) {
            double x = 0;
            for (int k = 0; k < dim; k++) x += v[(size_t)i * dim + k] * sqrt(fmax(w[k], 0)) * v[(size_t)j * dim + k];
            s[(size_t)i * dim + j] = x;
        }
    matmul(t, s, c2, dim);
    matmul(a, t, s, dim);
    for (int i = 0; i < dim; i++) /* symmetric up to rounding: make it exactly so */
        for (int j = i + 1; j < dim; j++)
            a[(size_t)i * dim + j] = a[(size_t)j * dim + i] = 0.5 * (a[(size_t)i * dim + j] + a[(size_t)j * dim + i]);
    gancl_symeig(a, dim, w, v);
    double fid = 0;
    for (int i = 0; i < dim; i++) {
        fid += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]) + c1[(size_t)i * dim + i] + c2[(size_t)i * dim + i];
        fid -= 2 * sqrt(fmax(w[i], 0));
    }
    free(a); free(v); free(s); free(t); free(w);
    return fid;
}

double gancl_inception_like(const float *probs, int n) {
    double py[GANCL_CLASSES] = {0}, kl = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < GANCL_CLASSES; k++) py[k] += probs[(size_t)i * GANCL_CLASSES + k] / (double)n;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < GANCL_CLASSES; k++) {
            const double p = probs[(size_t)i * GANCL_CLASSES + k];
            if (p > 0) kl += p * (log(p) - log(py[k]));
        }
    return n ? exp(kl / n) : 0;
}

double gancl_class_histogram(const float *probs, int n, double hist[GANCL_CLASSES]) {
    for (int k = 0; k < GANCL_CLASSES; k++) hist[k] = 0;
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * GANCL_CLASSES;
        int best = 0;
        for (int k = 1; k < GANCL_CLASSES; k++)
            if (p[k] > p[best]) best = k;
        hist[best] += 1.0 / n;
    }
    double kl = 0;
    for (int k = 0; k < GANCL_CLASSES; k++)
        if (hist[k] > 0) kl += hist[k] * log(hist[k] * GANCL_CLASSES);
    return kl;
}

/* ---- precision and recall ---- */

void knn_radius(const gancl_runtime *rt, gancl_ptr radius, gancl_ptr gt, gancl_ptr qn, gancl_ptr rn, int Q, int R) {
    cl_kernel k = gancl_kernel(rt, "knn_radius");
    GANCL_LAUNCH_1D(rt, k, (size_t)Q, GANCL_P(radius), GANCL_P(gt), GANCL_P(qn), GANCL_P(rn), GANCL_A(Q), GANCL_A(R));
}

void knn_inside(const gancl_runtime *rt, gancl_ptr inside, gancl_ptr gt, gancl_ptr qn, gancl_ptr rn,
                gancl_ptr radius, int Q, int R) {
    cl_kernel k = gancl_kernel(rt, "knn_inside");
    GANCL_LAUNCH_1D(rt, k, (size_t)Q, GANCL_P(inside), GANCL_P(gt), GANCL_P(qn), GANCL_P(rn), GANCL_P(radius),
                    GANCL_A(Q), GANCL_A(R));
}

/* Queries per block of dot products with R references. */
static int block_rows(int Q, int R) {
    size_t m = gram_max / (size_t)(R > 0 ? R : 1);
    if (m < 1) m = 1;
    return (size_t)Q < m ? Q : (int)m;
}

/* For each block of queries: gt = refs . queries^T, then radius (refs == queries) or inside. */
static void knn_blocks(const gancl_manifold *refs, const gancl_manifold *queries, cl_mem inside) {
    const gancl_runtime *rt = refs->rt;
    const int Q = queries->n, R = refs->n, D = refs->dim, m = block_rows(Q, R);
    cl_mem gt = gancl_buffer(rt, (size_t)R * m * sizeof(float));
    for (int q0 = 0; q0 < Q; q0 += m) {
        const int b = Q - q0 < m ? Q - q0 : m;
        gancl_gemm(rt, 0, 1, (size_t)R, (size_t)b, (size_t)D, 1.0f, refs->feat, 0, queries->feat, (size_t)q0 * D, 0.0f,
                   gt, 0);
        gancl_ptr pg = {gt, 0}, qn = {queries->norm, (size_t)q0}, rn = {refs->norm, 0};
        if (!inside) {
            gancl_ptr r = {queries->radius, (size_t)q0};
            knn_radius(rt, r, pg, qn, rn, b, R);
        } else {
            gancl_ptr in = {inside, (size_t)q0}, r = {refs->radius, 0};
            knn_inside(rt, in, pg, qn, rn, r, b, R);
        }
    }
    CL_CHECK(clFinish(rt->queue));
    clReleaseMemObject(gt);
}

void gancl_manifold_make(gancl_manifold *m, const gancl_runtime *rt, const float *feat, int n, int dim) {
    m->rt = rt;
    m->n = n;
    m->dim = dim;
    float *norm = xmalloc((size_t)n * sizeof *norm);
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < dim; j++) s += (double)feat[(size_t)i * dim + j] * feat[(size_t)i * dim + j];
        norm[i] = (float)s;
    }
    m->feat = gancl_buffer(rt, (size_t)n * dim * sizeof(float));
    m->norm = gancl_buffer(rt, (size_t)n * sizeof(float));
    m->radius = gancl_buffer(rt, (size_t)n * sizeof(float));
    gancl_write(rt, m->feat, 0, (size_t)n * dim * sizeof(float), feat);
    gancl_write(rt, m->norm, 0, (size_t)n * sizeof(float), norm);
    free(norm);
    knn_blocks(m, m, NULL);
}

void gancl_manifold_free(gancl_manifold *m) {
    cl_mem mems[] = {m->feat, m->norm, m->radius};
    for (int i = 0; i < 3; i++)
        if (mems[i]) clReleaseMemObject(mems[i]);
    memset(m, 0, sizeof *m);
}

double gancl_manifold_coverage(const gancl_manifold *refs, const gancl_manifold *queries) {
    const gancl_runtime *rt = refs->rt;
    cl_mem inside = gancl_buffer(rt, (size_t)queries->n * sizeof(int));
    knn_blocks(refs, queries, inside);
    int *flag = xmalloc((size_t)queries->n * sizeof *flag);
    gancl_read(rt, inside, 0, (size_t)queries->n * sizeof *flag, flag);
    long count = 0;
    for (int i = 0; i < queries->n; i++) count += flag[i] != 0;
    free(flag);
    clReleaseMemObject(inside);
    return queries->n ? (double)count / queries->n : 0;
}

static double sqdist(const float *a, const float *b, int dim) {
    double s = 0;
    for (int j = 0; j < dim; j++) s += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
    return s;
}

void gancl_knn_radius_ref(double *radius, const float *feat, int n, int dim) {
    for (int i = 0; i < n; i++) {
        double b[4] = {INFINITY, INFINITY, INFINITY, INFINITY}; /* the four smallest, itself included */
        for (int j = 0; j < n; j++) {
            double d = sqdist(feat + (size_t)i * dim, feat + (size_t)j * dim, dim);
            for (int k = 0; k < 4; k++)
                if (d < b[k]) {
                    const double t = b[k];
                    b[k] = d;
                    d = t;
                }
        }
        radius[i] = b[3];
    }
}

double gancl_coverage_ref(const float *refs, const double *radius, int nr, const float *queries, int nq, int dim) {
    long count = 0;
    for (int q = 0; q < nq; q++)
        for (int r = 0; r < nr; r++)
            if (sqdist(queries + (size_t)q * dim, refs + (size_t)r * dim, dim) <= radius[r]) {
                count++;
                break;
            }
    return nq ? (double)count / nq : 0;
}

/* ---- scoring images ---- */

void gancl_score_ref_make(gancl_score_ref *ref, gancl_classifier *c, const uint8_t *images, int n) {
    const int D = GANCL_FEATURES;
    ref->c = c;
    ref->n = n;
    ref->mu = xmalloc((size_t)D * sizeof *ref->mu);
    ref->cov = xmalloc((size_t)D * D * sizeof *ref->cov);
    float *feat = xmalloc((size_t)n * D * sizeof *feat);
    gancl_classifier_features(c, images, n, feat, NULL);
    gancl_feature_stats(feat, n, D, ref->mu, ref->cov);
    gancl_manifold_make(&ref->real, c->rt, feat, n, D);
    free(feat);
}

void gancl_score_ref_free(gancl_score_ref *ref) {
    free(ref->mu);
    free(ref->cov);
    gancl_manifold_free(&ref->real);
    memset(ref, 0, sizeof *ref);
}

double gancl_label_accuracy(const float *probs, const int *labels, int n, double per_class[GANCL_CLASSES]) {
    long asked[GANCL_CLASSES] = {0}, right[GANCL_CLASSES] = {0}, total = 0;
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * GANCL_CLASSES;
        int best = 0;
        for (int k = 1; k < GANCL_CLASSES; k++)
            if (p[k] > p[best]) best = k;
        const int y = labels[i];
        if (y < 0 || y >= GANCL_CLASSES) continue;
        asked[y]++;
        right[y] += best == y;
        total += best == y;
    }
    for (int k = 0; k < GANCL_CLASSES; k++) per_class[k] = asked[k] ? (double)right[k] / asked[k] : -1;
    return n ? (double)total / n : 0;
}

void gancl_score_images(const gancl_score_ref *ref, const uint8_t *images, const int *labels, int n,
                        gancl_scores *s) {
    const int D = GANCL_FEATURES;
    float *feat = xmalloc((size_t)n * D * sizeof *feat), *probs = xmalloc((size_t)n * GANCL_CLASSES * sizeof *probs);
    double *mu = xmalloc((size_t)D * sizeof *mu), *cov = xmalloc((size_t)D * D * sizeof *cov);
    gancl_classifier_features(ref->c, images, n, feat, probs);
    gancl_feature_stats(feat, n, D, mu, cov);
    memset(s, 0, sizeof *s);
    s->n = n;
    s->fid = gancl_fid(mu, cov, ref->mu, ref->cov, D);
    s->is = gancl_inception_like(probs, n);
    s->kl_uniform = gancl_class_histogram(probs, n, s->hist);
    if (labels) {
        s->labelled = 1;
        s->accuracy = gancl_label_accuracy(probs, labels, n, s->class_accuracy);
    }
    gancl_manifold fake;
    gancl_manifold_make(&fake, ref->c->rt, feat, n, D);
    s->precision = gancl_manifold_coverage(&ref->real, &fake);
    s->recall = gancl_manifold_coverage(&fake, &ref->real);
    gancl_manifold_free(&fake);
    free(feat); free(probs); free(mu); free(cov);
}
