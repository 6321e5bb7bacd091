/* checkpoint.h: checkpoints in the safetensors format (8-byte little-endian header length,
 * a JSON header, raw little-endian tensors): G and D weights, BatchNorm running statistics,
 * Adam moments, and the training state and configuration as string metadata. Tensor names
 * and shapes follow PyTorch's state_dict of the equivalent nn.Sequential. Files are written
 * atomically; a damaged, truncated or foreign file is rejected with a message. */
#ifndef GANCL_CHECKPOINT_H
#define GANCL_CHECKPOINT_H

#include "gancl/gan.h"
#include "gancl/json.h"

#define GANCL_META_MAX 64

typedef struct {
    struct {
        char key[48];
        char value[256];
    } kv[GANCL_META_MAX];
    int n;
} gancl_meta;

void gancl_meta_set(gancl_meta *m, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The value of key, or NULL. */
const char *gancl_meta_get(const gancl_meta *m, const char *key);

/* Writes every tensor of `gan` (read back from the device) with `meta` to `path`: G, D, their
 * optimiser moments and, when `gan` has one, the EMA generator. */
int gancl_checkpoint_save(const char *path, gancl_gan *gan, const gancl_meta *meta, char *err);
/* The same for up to 3 networks: parameters, running statistics, BatchNorm counters and the
 * optimiser moments of the first `moments` ("optimizer.<prefix>.exp_avg", "...exp_avg_sq"). */
int gancl_checkpoint_save_nets(const char *path, gancl_net *const *nets, int n_nets, int moments,
                               const gancl_meta *meta, char *err);

/* An opened, structurally validated checkpoint. */
typedef struct {
    char path[4096];
    uint8_t *file;
    size_t size;
    size_t data_start; /* 8 + header length */
    gancl_json header;
    gancl_meta meta;
} gancl_checkpoint;

/* Reads `path` and checks the container: header length against the file size, the JSON,
 * dtypes, shapes and offsets (inside the data, no gaps or overlaps), and that it is a gan-cl
 * checkpoint. Metadata is then in ck->meta. */
int gancl_checkpoint_open(const char *path, gancl_checkpoint *ck, char *err);
/* The same on a file's bytes (malloc'd; ck owns them from here on, also on failure). */
int gancl_checkpoint_open_bytes(const char *path, uint8_t *file, size_t size, gancl_checkpoint *ck, char *err);
/* Checks that the checkpoint holds exactly the tensors `gan` has (its EMA generator too),
 * with their shapes, then uploads weights, running statistics and Adam moments, and sets the
 * Adam step counts. */
int gancl_checkpoint_load_into(const gancl_checkpoint *ck, gancl_gan *gan, char *err);
/* Checks that the file holds exactly these networks' tensors (and the first `moments`'
 * moments), then uploads them; gradients (and the moments not in the file) are zeroed. */
int gancl_checkpoint_load_nets(const gancl_checkpoint *ck, gancl_net *const *nets, int n_nets, int moments,
                               char *err);
void gancl_checkpoint_close(gancl_checkpoint *ck);
/* A GAN for sampling (up to g_rows at once) from the checkpoint at `path`: its networks, its
 * EMA generator when it has one, its weights. -1 and a message (nothing to free) otherwise. */
int gancl_checkpoint_open_generator(const char *path, gancl_gan *gan, const gancl_runtime *rt, int g_rows,
                                    char *err);
/* The decay of the checkpoint's EMA generator (metadata ema_decay), 0 when it has none. */
float gancl_checkpoint_ema(const gancl_checkpoint *ck);
/* The networks the checkpoint was trained with: model, latent size and widths (metadata). */
int gancl_checkpoint_arch(const gancl_checkpoint *ck, gancl_arch *arch, char *err);

#endif
