/* checkpoint.c: writing and reading safetensors checkpoints of the GAN, with validation. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/checkpoint.h"
#include "gancl/classifier.h"
#include "gancl/fsutil.h"

#include <stdarg.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#define MAX_HEADER (64u << 20)

void gancl_meta_set(gancl_meta *m, const char *key, const char *fmt, ...) {
    int i = 0;
    while (i < m->n && strcmp(m->kv[i].key, key)) i++;
    if (i == m->n) {
        if (m->n == GANCL_META_MAX) gancl_die("too many metadata entries");
        m->n++;
    }
    snprintf(m->kv[i].key, sizeof m->kv[i].key, "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->kv[i].value, sizeof m->kv[i].value, fmt, ap);
    va_end(ap);
}

const char *gancl_meta_get(const gancl_meta *m, const char *key) {
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->kv[i].key, key)) return m->kv[i].value;
    return NULL;
}

/* One tensor of the file: where its floats (or int64 scalar) come from or go to. */
typedef struct {
    char name[80];
    int i64; /* 1: an int64 scalar (num_batches_tracked), else float32 */
    int ndim;
    long long shape[4];
    size_t numel;
    float *host; /* float data in a host copy of a device buffer */
    long long value; /* the int64 scalar */
} entry;

#define MAX_NETS 3

typedef struct {
    entry *e;
    int n;
    gancl_net *const *nets;
    int n_nets;
    float *host[MAX_NETS], *run[MAX_NETS]; /* host copies of each network's buffer (4P) and running stats */
} layout;

static void push(layout *l, const char *name, int ndim, const int *shape, float *host) {
    entry *e = &l->e[l->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->ndim = ndim;
    e->numel = 1;
    for (int k = 0; k < ndim; k++) {
        e->shape[k] = shape[k];
        e->numel *= (size_t)shape[k];
    }
    e->host = host;
    e->i64 = host == NULL;
}

static void push_table(layout *l, const gancl_param_table *t, float *base) {
    for (int i = 0; i < t->n; i++)
        push(l, t->t[i].name, t->t[i].ndim, t->t[i].shape, base + t->t[i].off);
}

/* The file's tensors, in file order (each network's parameters, running statistics and
 * BatchNorm counters, then, with `moments`, the optimiser moments), pointing into host copies. */
static int make_layout(layout *l, gancl_net *const *nets, int n_nets, int moments) {
    memset(l, 0, sizeof *l);
    l->nets = nets;
    l->n_nets = n_nets;
    l->e = calloc(4 * GANCL_MAX_TENSORS * MAX_NETS + 16, sizeof *l->e);
    if (!l->e) return -1;
    for (int k = 0; k < n_nets; k++) {
        const gancl_net *net = nets[k];
        l->host[k] = malloc((4 * net->params.size + 1) * sizeof(float));
        l->run[k] = malloc((net->running.size + 1) * sizeof(float));
        if (!l->host[k] || !l->run[k]) return -1;
        push_table(l, &net->params, l->host[k]);
        push_table(l, &net->running, l->run[k]);
        for (int i = 0; i < net->running.n; i += 2) { /* one counter per BatchNorm layer */
            const char *rm = net->running.t[i].name;
            char name[80];
            snprintf(name, sizeof name, "%.*s.num_batches_tracked", (int)(strrchr(rm, '.') - rm), rm);
            push(l, name, 0, NULL, NULL);
            l->e[l->n - 1].value = net->step;
        }
    }
    for (int k = 0; k < moments && k < n_nets; k++) {
        const size_t P = nets[k]->params.size;
        int shape[1] = {(int)P};
        char name[80];
        snprintf(name, sizeof name, "optimizer.%s.exp_avg", nets[k]->prefix);
        push(l, name, 1, shape, l->host[k] + 2 * P);
        snprintf(name, sizeof name, "optimizer.%s.exp_avg_sq", nets[k]->prefix);
        push(l, name, 1, shape, l->host[k] + 3 * P);
    }
    return 0;
}

static void free_layout(layout *l) {
    free(l->e);
    for (int k = 0; k < MAX_NETS; k++) {
        free(l->host[k]);
        free(l->run[k]);
    }
}

/* Host copies <-> the device (read: device to host). */
static void transfer(layout *l, int read) {
    for (int k = 0; k < l->n_nets; k++) {
        const gancl_net *net = l->nets[k];
        const size_t pb = 4 * net->params.size * sizeof(float), rb = net->running.size * sizeof(float);
        if (read) {
            gancl_read(net->rt, net->buf, 0, pb, l->host[k]);
            if (rb) gancl_read(net->rt, net->running_buf, 0, rb, l->run[k]);
        } else {
            gancl_write(net->rt, net->buf, 0, pb, l->host[k]);
            if (rb) gancl_write(net->rt, net->running_buf, 0, rb, l->run[k]);
        }
    }
}

int gancl_checkpoint_save_nets(const char *path, gancl_net *const *nets, int n_nets, int moments,
                               const gancl_meta *meta, char *err) {
    layout l;
    if (n_nets > MAX_NETS || make_layout(&l, nets, n_nets, moments)) {
        free_layout(&l);
        snprintf(err, GANCL_ERR_LEN, "%s: out of host memory", path);
        return -1;
    }
    transfer(&l, 1);

    char *hdr = NULL;
    size_t hlen = 0;
    FILE *h = open_memstream(&hdr, &hlen);
    if (!h) {
        free_layout(&l);
        snprintf(err, GANCL_ERR_LEN, "%s: out of host memory", path);
        return -1;
    }
    fputs("{\"__metadata__\":{", h);
    for (int i = 0; i < meta->n; i++) {
        if (i) fputc(',', h);
        gancl_json_write_string(h, meta->kv[i].key);
        fputc(':', h);
        gancl_json_write_string(h, meta->kv[i].value);
    }
    fputc('}', h);
    size_t off = 0;
    for (int i = 0; i < l.n; i++) {
        const entry *e = &l.e[i];
        size_t bytes = e->numel * (e->i64 ? 8 : 4);
        fprintf(h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", e->name, e->i64 ? "I64" : "F32");
        for (int k = 0; k < e->ndim; k++) fprintf(h, "%s%lld", k ? "," : "", e->shape[k]);
        fprintf(h, "],\"data_offsets\":[%zu,%zu]}", off, off + bytes);
        off += bytes;
    }
    fputc('}', h);
    while ((ftell(h) % 8) != 0) fputc(' ', h); /* pad so the tensor data starts aligned */
    fclose(h);

    gancl_atomic_file f;
    int rc = gancl_atomic_open(&f, path, err);
    if (rc == 0) {
        uint8_t len8[8];
        for (int k = 0; k < 8; k++) len8[k] = (uint8_t)((uint64_t)hlen >> (8 * k));
        int ok = fwrite(len8, 1, 8, f.fp) == 8 && fwrite(hdr, 1, hlen, f.fp) == hlen;
        for (int i = 0; ok && i < l.n; i++) {
            const entry *e = &l.e[i];
            ok = e->i64 ? fwrite(&e->value, 8, 1, f.fp) == 1
                        : fwrite(e->host, sizeof(float), e->numel, f.fp) == e->numel;
        }
        if (!ok) {
            const int why = errno;
            gancl_atomic_abort(&f);
            snprintf(err, GANCL_ERR_LEN, "%s: write failed: %s", path, strerror(why));
            rc = -1;
        } else {
            rc = gancl_atomic_commit(&f, err);
        }
    }
    free(hdr);
    free_layout(&l);
    return rc;
}

static int dtype_size(const char *d) {
    static const char *names[] = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "U16", "U32", "U64"};
    static const int sizes[] = {8, 4, 2, 2, 8, 4, 2, 1, 1, 1, 2, 4, 8};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        if (!strcmp(d, names[i])) return sizes[i];
    return 0;
}

typedef struct {
    size_t begin, end;
    const char *name;
} span;

static int by_begin(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

#define BAD(...) do { snprintf(err, GANCL_ERR_LEN, __VA_ARGS__); goto fail; } while (0)

int gancl_checkpoint_open(const char *path, gancl_checkpoint *ck, char *err) {
    uint8_t *file;
    size_t size;
    memset(ck, 0, sizeof *ck);
    if (gancl_read_file(path, &file, &size, err)) return -1;
    return gancl_checkpoint_open_bytes(path, file, size, ck, err);
}

int gancl_checkpoint_open_bytes(const char *path, uint8_t *file, size_t size, gancl_checkpoint *ck, char *err) {
    memset(ck, 0, sizeof *ck);
    snprintf(ck->path, sizeof ck->path, "%s", path);
    ck->file = file;
    ck->size = size;
    span *spans = NULL;
    const char *name = path;
    if (ck->size < 8)
        BAD("%s: not a checkpoint: %zu bytes is too short for a safetensors header", name, ck->size);
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--) hlen = hlen << 8 | ck->file[k];
    if (hlen > ck->size - 8)
        BAD("%s: truncated or not a safetensors file: header length %llu exceeds the file size %zu",
            name, (unsigned long long)hlen, ck->size);
    if (hlen < 2 || hlen > MAX_HEADER)
        BAD("%s: not a safetensors file: implausible header length %llu", name, (unsigned long long)hlen);
    ck->data_start = 8 + (size_t)hlen;
    char jerr[GANCL_ERR_LEN];
    if (gancl_json_parse((const char *)ck->file + 8, (size_t)hlen, &ck->header, jerr))
        BAD("%s: damaged header: %s", name, jerr);
    if (ck->header.type != GANCL_JSON_OBJECT) BAD("%s: damaged header: not a JSON object", name);
    const gancl_json *meta = gancl_json_get(&ck->header, "__metadata__");
    if (meta) {
        if (meta->type != GANCL_JSON_OBJECT) BAD("%s: __metadata__ is not an object", name);
        for (int i = 0; i < meta->n; i++) {
            if (meta->items[i].type != GANCL_JSON_STRING)
                BAD("%s: metadata value '%s' is not a string", name, meta->keys[i]);
            if (ck->meta.n == GANCL_META_MAX) BAD("%s: too many metadata entries", name);
            gancl_meta_set(&ck->meta, meta->keys[i], "%s", meta->items[i].string);
        }
    }
    const char *fmt = gancl_meta_get(&ck->meta, "format");
    if (!fmt || strcmp(fmt, "gan-cl"))
        BAD("%s: not a gan-cl checkpoint (a safetensors file from another program?)", name);

    size_t data_size = ck->size - ck->data_start;
    spans = calloc((size_t)ck->header.n + 1, sizeof *spans);
    if (!spans) BAD("%s: out of host memory", name);
    int ns = 0;
    for (int i = 0; i < ck->header.n; i++) {
        const char *tn = ck->header.keys[i];
        if (!strcmp(tn, "__metadata__")) continue;
        const gancl_json *t = &ck->header.items[i];
        const gancl_json *dt = gancl_json_get(t, "dtype"), *sh = gancl_json_get(t, "shape");
        const gancl_json *of = gancl_json_get(t, "data_offsets");
        int dsz = dt && dt->type == GANCL_JSON_STRING ? dtype_size(dt->string) : 0;
        if (!dsz) BAD("%s: tensor '%s' has a missing or unknown dtype", name, tn);
        if (!sh || sh->type != GANCL_JSON_ARRAY || sh->n > 8)
            BAD("%s: tensor '%s' has a bad shape", name, tn);
        unsigned long long numel = 1;
        for (int k = 0; k < sh->n; k++) {
            const gancl_json *d = &sh->items[k];
            if (d->type != GANCL_JSON_NUMBER || !d->is_integer || d->integer < 0 || d->integer > (1LL << 40))
                BAD("%s: tensor '%s' has a bad shape", name, tn);
            numel *= (unsigned long long)d->integer;
            if (numel > (1ULL << 40)) BAD("%s: tensor '%s' is implausibly large", name, tn);
        }
        if (!of || of->type != GANCL_JSON_ARRAY || of->n != 2) BAD("%s: tensor '%s' has bad data_offsets", name, tn);
        for (int k = 0; k < 2; k++)
            if (of->items[k].type != GANCL_JSON_NUMBER || !of->items[k].is_integer || of->items[k].integer < 0)
                BAD("%s: tensor '%s' has bad data_offsets", name, tn);
        size_t b = (size_t)of->items[0].integer, e = (size_t)of->items[1].integer;
        if (b > e || e > data_size)
            BAD("%s: truncated or damaged: tensor '%s' spans bytes %zu-%zu but the data has %zu",
                name, tn, b, e, data_size);
        if (e - b != numel * (size_t)dsz)
            BAD("%s: tensor '%s' has %zu bytes, its shape needs %llu", name, tn, e - b, numel * dsz);
        spans[ns].begin = b;
        spans[ns].end = e;
        spans[ns].name = tn;
        ns++;
    }
    qsort(spans, (size_t)ns, sizeof *spans, by_begin);
    size_t at = 0;
    for (int i = 0; i < ns; i++) {
        if (spans[i].begin != at) BAD("%s: damaged: tensor data overlaps or has a gap at '%s'", name, spans[i].name);
        at = spans[i].end;
    }
    if (at != data_size)
        BAD("%s: damaged: %zu bytes of data after the last tensor", name, data_size - at);
    free(spans);
    return 0;
fail:
    free(spans);
    gancl_checkpoint_close(ck);
    return -1;
}

int gancl_checkpoint_load_nets(const gancl_checkpoint *ck, gancl_net *const *nets, int n_nets, int moments,
                               char *err) {
    layout l;
    const char *name = ck->path;
    if (n_nets > MAX_NETS || make_layout(&l, nets, n_nets, moments)) BAD("%s: out of host memory", name);
    int expected = 0;
    for (int i = 0; i < l.n; i++) {
        entry *e = &l.e[i];
        const gancl_json *t = gancl_json_get(&ck->header, e->name);
        if (!t) BAD("%s: tensor '%s' is missing (a checkpoint of another model?)", name, e->name);
        const gancl_json *dt = gancl_json_get(t, "dtype"), *sh = gancl_json_get(t, "shape");
        if (strcmp(dt->string, e->i64 ? "I64" : "F32"))
            BAD("%s: tensor '%s' is %s, expected %s", name, e->name, dt->string, e->i64 ? "I64" : "F32");
        int same = sh->n == e->ndim;
        for (int k = 0; same && k < e->ndim; k++) same = sh->items[k].integer == e->shape[k];
        if (!same)
            BAD("%s: tensor '%s' has another shape than this model's (%d dimensions, the first %lld): "
                "a checkpoint of a different configuration?", name, e->name, e->ndim,
                e->ndim ? e->shape[0] : 0LL);
        const uint8_t *src = ck->file + ck->data_start + gancl_json_get(t, "data_offsets")->items[0].integer;
        if (e->i64) memcpy(&e->value, src, 8);
        else memcpy(e->host, src, e->numel * sizeof(float));
        expected++;
    }
    int present = ck->header.n - (gancl_json_get(&ck->header, "__metadata__") != NULL);
    if (present != expected)
        BAD("%s: holds %d tensors, this model has %d (a checkpoint of another model?)", name, present, expected);
    /* gradients are not saved: zero them (and the moments when the file has none); the
     * buffer's other parts come from the file */
    for (int k = 0; k < n_nets; k++) {
        const size_t P = nets[k]->params.size;
        memset(l.host[k] + P, 0, (k < moments ? 1 : 3) * P * sizeof(float));
    }
    transfer(&l, 0);
    free_layout(&l);
    return 0;
fail:
    free_layout(&l);
    return -1;
}

int gancl_checkpoint_save(const char *path, gancl_gan *gan, const gancl_meta *meta, char *err) {
    gancl_net *nets[3] = {&gan->g, &gan->d, &gan->g_ema};
    return gancl_checkpoint_save_nets(path, nets, gan->ema_decay ? 3 : 2, 2, meta, err);
}

float gancl_checkpoint_ema(const gancl_checkpoint *ck) {
    const char *v = gancl_meta_get(&ck->meta, "ema_decay");
    const float d = v ? strtof(v, NULL) : 0.0f;
    return d > 0 && d < 1 ? d : 0.0f;
}

int gancl_checkpoint_load_into(const gancl_checkpoint *ck, gancl_gan *gan, char *err) {
    const char *gs = gancl_meta_get(&ck->meta, "g_adam_step"), *ds = gancl_meta_get(&ck->meta, "d_adam_step");
    if (!gs || !ds) {
        snprintf(err, GANCL_ERR_LEN, "%s: metadata lacks the Adam step counts", ck->path);
        return -1;
    }
    if ((gancl_checkpoint_ema(ck) != 0) != (gan->ema_decay != 0)) {
        snprintf(err, GANCL_ERR_LEN, "%s: the checkpoint %s an EMA generator, this model %s", ck->path,
                 gancl_checkpoint_ema(ck) ? "has" : "has no", gan->ema_decay ? "has one" : "does not");
        return -1;
    }
    gancl_net *nets[3] = {&gan->g, &gan->d, &gan->g_ema};
    if (gancl_checkpoint_load_nets(ck, nets, gan->ema_decay ? 3 : 2, 2, err)) return -1;
    gan->g.step = gan->g_ema.step = atol(gs);
    gan->ema_stats_fresh = 1; /* saved after a refresh */
    gan->d.step = atol(ds);
    return 0;
}

void gancl_checkpoint_close(gancl_checkpoint *ck) {
    free(ck->file);
    gancl_json_free(&ck->header);
    ck->file = NULL;
}

int gancl_checkpoint_arch(const gancl_checkpoint *ck, gancl_arch *arch, char *err) {
    const char *model = gancl_meta_get(&ck->meta, "model"), *latent_s = gancl_meta_get(&ck->meta, "latent_dim");
    int latent = latent_s ? atoi(latent_s) : 0;
    gancl_model mo;
    if (gancl_model_parse(model, &mo) || latent <= 0 || latent > 100000) {
        snprintf(err, GANCL_ERR_LEN, "%s: unsupported model '%s' or latent_dim '%s'", ck->path, model ? model : "?",
                 latent_s ? latent_s : "?");
        return -1;
    }
    *arch = gancl_arch_default(mo, latent);
    /* conditional models record their classes; checkpoints without the key are not */
    const char *classes = gancl_meta_get(&ck->meta, "classes");
    if (classes && strcmp(classes, "0")) {
        if (strcmp(classes, "10")) {
            snprintf(err, GANCL_ERR_LEN, "%s: metadata classes '%s': gan-cl's conditional models have 10",
                     ck->path, classes);
            return -1;
        }
        gancl_arch_conditional(arch);
    }
    /* how D takes the class; checkpoints without the key concatenate it (the first ones) */
    const char *dcond = gancl_meta_get(&ck->meta, "d_conditioning");
    if (dcond && strcmp(dcond, "concat") && strcmp(dcond, "projection")) {
        snprintf(err, GANCL_ERR_LEN, "%s: metadata d_conditioning '%s': expected concat or projection", ck->path,
                 dcond);
        return -1;
    }
    arch->projection = arch->classes && dcond && !strcmp(dcond, "projection");
    /* D's dropout as trained; checkpoints without the key have the model's (the first
     * conditional MLPs had none) */
    const char *dropout = gancl_meta_get(&ck->meta, "d_dropout");
    if (arch->classes && arch->model == GANCL_MODEL_MLP && !dropout) arch->dropout = 0;
    if (dropout) {
        char *end;
        const double p = strtod(dropout, &end);
        if (*end || !(p >= 0 && p < 1)) {
            snprintf(err, GANCL_ERR_LEN, "%s: metadata d_dropout '%s' is not a probability below 1", ck->path,
                     dropout);
            return -1;
        }
        arch->dropout = (float)p;
    }
    /* checkpoints from before --g-layers have the model's default widths */
    const char *keys[2] = {"g_layers", "d_layers"};
    for (int k = 0; k < 2; k++) {
        const char *v = gancl_meta_get(&ck->meta, keys[k]);
        char why[GANCL_ERR_LEN];
        if (v && gancl_widths_parse(v, k ? arch->d : arch->g, k ? &arch->nd : &arch->ng, why)) {
            snprintf(err, GANCL_ERR_LEN, "%s: metadata %s %s", ck->path, keys[k], why);
            return -1;
        }
    }
    return 0;
}

int gancl_checkpoint_open_generator(const char *path, gancl_gan *gan, const gancl_runtime *rt, int g_rows,
                                    char *err) {
    gancl_checkpoint ck;
    memset(gan, 0, sizeof *gan);
    if (gancl_checkpoint_open(path, &ck, err)) return -1;
    gancl_arch arch;
    int rc = gancl_checkpoint_arch(&ck, &arch, err);
    if (rc == 0) rc = gancl_gan_init(gan, rt, &arch, 1, g_rows, 0, err);
    if (rc == 0 && gancl_checkpoint_ema(&ck)) rc = gancl_gan_enable_ema(gan, gancl_checkpoint_ema(&ck), err);
    if (rc == 0) rc = gancl_checkpoint_load_into(&ck, gan, err);
    gancl_checkpoint_close(&ck);
    if (rc) gancl_gan_free(gan);
    return rc;
}
