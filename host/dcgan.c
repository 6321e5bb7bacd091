/* dcgan.c: the DCGAN of the TensorFlow tutorial (see gan.h): its parameter tables, sizes, and
 * the forward and backward passes of G and D, including the gradient penalty's tangent pass.
 * The training steps in gan.c are shared with the MLP. Dimensions: B batch, Z latent,
 * c0 c1 c2 G's channels (256, 128, 64), e0 e1 D's (64, 128); images 1 x 28 x 28. */
#include "gancl/gan.h"
#include "gan_access.h"

#include <math.h>
#include <stdio.h>

#define K5 5
#define STREAM_DROPOUT 0x60000u


/* G: 0 Linear weight [c0*49, Z]; BatchNorm1d 1, 2 (gamma, beta); ConvTranspose weights
 * [c0, c1, 5, 5] 3, [c1, c2, 5, 5] 6, [c2, 1, 5, 5] 9 with BatchNorm2d 4, 5 and 7, 8.
 * D: Conv [e0, 1, 5, 5] 0 and bias 1, Conv [e1, e0, 5, 5] 2 and bias 3, Linear [1, e1*49] 4, 5.
 * Names follow nn.Sequential(Linear, BatchNorm1d, LeakyReLU, Unflatten, ConvTranspose2d,
 * BatchNorm2d, LeakyReLU, ConvTranspose2d, BatchNorm2d, LeakyReLU, ConvTranspose2d, Tanh) and
 * (Conv2d, LeakyReLU, Dropout, Conv2d, LeakyReLU, Dropout, Flatten, Linear). */
void dcgan_build_tables(gancl_gan *gan) {
    const gancl_gan_dims *d = &gan->dims;
    const int c0 = d->g_hidden[0], c1 = d->g_hidden[1], c2 = d->g_hidden[2];
    const int e0 = d->d_hidden[0], e1 = d->d_hidden[1];
    gancl_param_table *g = &gan->g, *r = &gan->g_running, *t = &gan->d;
    gancl_table_add(g, "generator.0.weight", c0 * 49, d->latent, 0, 0, 1.0f / sqrtf((float)d->latent), 0);
    const int bn[3] = {1, 5, 8}, feat[3] = {c0 * 49, c1, c2};
    const int convt[3] = {4, 7, 10}, cin[3] = {c0, c1, c2}, cout[3] = {c1, c2, 1};
    char name[64];
    for (int i = 0; i < 3; i++) {
        if (i > 0) { /* PyTorch's ConvTranspose2d takes fan_in from weight.size(1) * k * k */
            snprintf(name, sizeof name, "generator.%d.weight", convt[i - 1]);
            gancl_table_add(g, name, cin[i - 1], cout[i - 1], K5, K5, 1.0f / sqrtf((float)cout[i - 1] * 25), 0);
        }
        snprintf(name, sizeof name, "generator.%d.weight", bn[i]);
        gancl_table_add(g, name, feat[i], 0, 0, 0, 0, 1.0f);
        snprintf(name, sizeof name, "generator.%d.bias", bn[i]);
        gancl_table_add(g, name, feat[i], 0, 0, 0, 0, 0.0f);
        snprintf(name, sizeof name, "generator.%d.running_mean", bn[i]);
        gancl_table_add(r, name, feat[i], 0, 0, 0, 0, 0.0f);
        snprintf(name, sizeof name, "generator.%d.running_var", bn[i]);
        gancl_table_add(r, name, feat[i], 0, 0, 0, 0, 1.0f);
        gan->bn_feat[i] = feat[i];
    }
    gancl_table_add(g, "generator.10.weight", c2, 1, K5, K5, 1.0f / sqrtf(25.0f), 0);
    float b0 = 1.0f / sqrtf(25.0f), b1 = 1.0f / sqrtf((float)e0 * 25), b2 = 1.0f / sqrtf((float)e1 * 49);
    gancl_table_add(t, "discriminator.0.weight", e0, 1, K5, K5, b0, 0);
    gancl_table_add(t, "discriminator.0.bias", e0, 0, 0, 0, b0, 0);
    gancl_table_add(t, "discriminator.3.weight", e1, e0, K5, K5, b1, 0);
    gancl_table_add(t, "discriminator.3.bias", e1, 0, 0, 0, b1, 0);
    gancl_table_add(t, "discriminator.7.weight", 1, e1 * 49, 0, 0, b2, 0);
    gancl_table_add(t, "discriminator.7.bias", 1, 0, 0, 0, b2, 0);
}

/* Parameter indices in the tables above. */
enum { G_FC, G_BN0, G_CT1 = 3, G_BN1, G_CT2 = 6, G_BN2, G_CT3 = 9 };
enum { D_C1, D_C1B, D_C2, D_C2B, D_FC, D_FCB };

/* The geometries: G's transposed convolutions 7 -> 7 -> 14 -> 28, D's convolutions 28 -> 14 -> 7. */
static gancl_conv_geom g_geom(const gancl_gan *gan, int i) {
    const int *c = gan->dims.g_hidden;
    if (i == 0) return gancl_convt_geom_make(c[1], 7, 7, K5, 1, 2, 0);
    if (i == 1) return gancl_convt_geom_make(c[2], 7, 7, K5, 2, 2, 1);
    return gancl_convt_geom_make(1, 14, 14, K5, 2, 2, 1);
}

static gancl_conv_geom d_geom(const gancl_gan *gan, int i) {
    return i == 0 ? gancl_conv_geom_make(1, 28, 28, K5, 2, 2) : gancl_conv_geom_make(gan->dims.d_hidden[0], 14, 14, K5, 2, 2);
}

void dcgan_sizes(gancl_gan *gan, size_t *col, size_t *tmp) {
    const int *c = gan->dims.g_hidden, *e = gan->dims.d_hidden;
    gan->g_feat[0] = c[0] * 49;
    gan->g_feat[1] = c[1] * 49;
    gan->g_feat[2] = c[2] * 196;
    gan->d_feat[0] = e[0] * 196;
    gan->d_feat[1] = e[1] * 49;
    *col = *tmp = 0;
    const size_t R = (size_t)gan->g_rows, DR = (size_t)gan->d_rows;
    const int cin[3] = {c[0], c[1], c[2]};
    for (int i = 0; i < 3; i++) {
        gancl_conv_geom g = g_geom(gan, i);
        size_t P = (size_t)g.OH * g.OW, colsz = (size_t)g.C * 25 * R * P, tmpsz = (size_t)cin[i] * R * P;
        *col = colsz > *col ? colsz : *col;
        *tmp = tmpsz > *tmp ? tmpsz : *tmp;
    }
    for (int i = 0; i < 2; i++) {
        gancl_conv_geom g = d_geom(gan, i);
        size_t P = (size_t)g.OH * g.OW, colsz = (size_t)g.C * 25 * DR * P, tmpsz = (size_t)e[i] * DR * P;
        *col = colsz > *col ? colsz : *col;
        *tmp = tmpsz > *tmp ? tmpsz : *tmp;
    }
}

void dcgan_generator_forward(gancl_gan *gan, gancl_ptr out, int n, int training) {
    const gancl_runtime *rt = gan->rt;
    const gancl_gan_dims *d = &gan->dims;
    gancl_ptr running = {gan->running, 0}, col = A(gan->col), tmp = A(gan->tmp);
    // x0[n, c0*49] = z @ W^T; a0 = leaky(batchnorm(x0)), viewed as [n, c0, 7, 7]
    linear_forward(rt, A(gan->g_x[0]), A(gan->z), GP(G_FC), NONE, n, d->latent, gan->g_feat[0],
                   GANCL_ACT_NONE, 0.0f);
    const int bn[3] = {G_BN0, G_BN1, G_BN2}, ct[3] = {G_CT1, G_CT2, G_CT3}, S[3] = {1, 49, 196};
    for (int i = 0; i < 3; i++) {
        if (i > 0) // x_i = conv_transpose(a_{i-1})
            convt2d_forward(rt, A(gan->g_x[i]), A(gan->g_a[i - 1]), GP(ct[i - 1]), g_geom(gan, i - 1),
                            d->g_hidden[i - 1], n, col, tmp);
        batchnorm_forward(rt, A(gan->g_a[i]), A(gan->g_x[i]), NONE, GP(bn[i]), A(gan->g_saved[i]),
                          gancl_at(running, gan->g_running.t[2 * i].off), n, gan->bn_feat[i],
                          d->bn_eps, d->bn_momentum, training, GANCL_ACT_NONE, 0.0f, S[i]);
        bias_act_forward(rt, A(gan->g_a[i]), NONE, n, gan->g_feat[i], GANCL_ACT_LEAKY, d->slope);
    }
    // out[n, 1, 28, 28] = tanh(conv_transpose(a2))
    convt2d_forward(rt, out, A(gan->g_a[2]), GP(G_CT3), g_geom(gan, 2), d->g_hidden[2], n, col, tmp);
    bias_act_forward(rt, out, NONE, n, d->image, GANCL_ACT_TANH, 0.0f);
}

void dcgan_generator_backward(gancl_gan *gan, gancl_ptr dout, gancl_ptr out) {
    const gancl_runtime *rt = gan->rt;
    const gancl_gan_dims *d = &gan->dims;
    const int B = gan->batch;
    gancl_ptr col = A(gan->col), tmp = A(gan->tmp);
    const int bn[3] = {G_BN0, G_BN1, G_BN2}, ct[3] = {G_CT1, G_CT2, G_CT3}, S[3] = {1, 49, 196};
    // through tanh, then the last transposed convolution: da2[B, c2*196]
    bias_act_backward(rt, dout, out, NONE, B, d->image, GANCL_ACT_TANH, 0.0f);
    convt2d_backward(rt, A(gan->g_d[2]), GG(G_CT3), dout, A(gan->g_a[2]), GP(G_CT3), g_geom(gan, 2),
                     d->g_hidden[2], B, col, tmp);
    for (int i = 2; i >= 0; i--) {
        // through LeakyReLU and BatchNorm, in place: dx_i
        bias_act_backward(rt, A(gan->g_d[i]), A(gan->g_a[i]), NONE, B, gan->g_feat[i], GANCL_ACT_LEAKY, d->slope);
        batchnorm_backward(rt, A(gan->g_d[i]), GG(bn[i]), NONE, A(gan->g_d[i]), A(gan->g_x[i]), GP(bn[i]),
                           A(gan->g_saved[i]), B, gan->bn_feat[i], GANCL_ACT_NONE, 0.0f, S[i]);
        if (i > 0) // da_{i-1} and the transposed convolution's weights
            convt2d_backward(rt, A(gan->g_d[i - 1]), GG(ct[i - 1]), A(gan->g_d[i]), A(gan->g_a[i - 1]),
                             GP(ct[i - 1]), g_geom(gan, i - 1), d->g_hidden[i - 1], B, col, tmp);
    }
    linear_backward(rt, NONE, GG(G_FC), NONE, A(gan->g_d[0]), A(gan->g_x[0]), A(gan->z), GP(G_FC), B,
                    d->latent, gan->g_feat[0], GANCL_ACT_NONE, 0.0f);
}

/* The dropout mask of D's layer i on rows [row0, row0 + n), from (seed, step, stream). */
static void d_dropout(gancl_gan *gan, gancl_ptr t, int layer, int row0, int n) {
    const size_t F = (size_t)gan->d_feat[layer];
    const uint64_t s = gan->noise_seed;
    const uint32_t c2 = STREAM_DROPOUT | (uint32_t)layer << 8 | (uint32_t)gan->noise_stream << 4 |
                        (uint32_t)(gan->noise_step >> 32) << 12;
    dropout_apply(gan->rt, t, t, (size_t)n * F, (size_t)row0 * F, gan->dims.dropout, (uint32_t)s,
                  (uint32_t)(s >> 32), (uint32_t)gan->noise_step, c2);
}

void dcgan_discriminator_forward(gancl_gan *gan, int row0, int n) {
    const gancl_runtime *rt = gan->rt;
    const gancl_gan_dims *d = &gan->dims;
    const size_t r0 = (size_t)row0, F0 = (size_t)gan->d_feat[0], F1 = (size_t)gan->d_feat[1];
    gancl_ptr col = A(gan->col), tmp = A(gan->tmp);
    gancl_ptr x = A(gan->d_x + r0 * d->image), h0 = A(gan->d_h[0] + r0 * F0), h1 = A(gan->d_h[1] + r0 * F1);
    // h0[n, e0, 14, 14] = dropout(leaky(conv(x) + b)); h1[n, e1, 7, 7] likewise; logit = h1 @ W^T + b
    conv2d_forward(rt, h0, x, DP(D_C1), DP(D_C1B), d_geom(gan, 0), d->d_hidden[0], n, col, tmp);
    bias_act_forward(rt, h0, NONE, n, (int)F0, GANCL_ACT_LEAKY, d->slope);
    d_dropout(gan, h0, 0, row0, n);
    conv2d_forward(rt, h1, h0, DP(D_C2), DP(D_C2B), d_geom(gan, 1), d->d_hidden[1], n, col, tmp);
    bias_act_forward(rt, h1, NONE, n, (int)F1, GANCL_ACT_LEAKY, d->slope);
    d_dropout(gan, h1, 1, row0, n);
    linear_forward(rt, A(gan->d_logit + r0), h1, DP(D_FC), DP(D_FCB), n, (int)F1, 1, GANCL_ACT_NONE, 0.0f);
}

void dcgan_discriminator_backward(gancl_gan *gan, int row0, int n, int dweights, int dinput) {
    const gancl_runtime *rt = gan->rt;
    const gancl_gan_dims *d = &gan->dims;
    const size_t r0 = (size_t)row0, F0 = (size_t)gan->d_feat[0], F1 = (size_t)gan->d_feat[1];
    gancl_ptr col = A(gan->col), tmp = A(gan->tmp);
    gancl_ptr x = A(gan->d_x + r0 * d->image), h0 = A(gan->d_h[0] + r0 * F0), h1 = A(gan->d_h[1] + r0 * F1);
    gancl_ptr dh0 = A(gan->d_dh[0] + r0 * F0), dh1 = A(gan->d_dh[1] + r0 * F1);
#define W(x) (dweights ? (x) : NONE)
    linear_backward(rt, dh1, W(DG(D_FC)), W(DG(D_FCB)), A(gan->d_dlogit + r0), A(gan->d_logit + r0), h1,
                    DP(D_FC), n, (int)F1, 1, GANCL_ACT_NONE, 0.0f);
    d_dropout(gan, dh1, 1, row0, n); // the same mask; LeakyReLU' from the kept outputs' signs
    bias_act_backward(rt, dh1, h1, NONE, n, (int)F1, GANCL_ACT_LEAKY, d->slope);
    conv2d_backward(rt, dh0, W(DG(D_C2)), W(DG(D_C2B)), dh1, h0, DP(D_C2), d_geom(gan, 1), d->d_hidden[1], n,
                    col, tmp);
    d_dropout(gan, dh0, 0, row0, n);
    bias_act_backward(rt, dh0, h0, NONE, n, (int)F0, GANCL_ACT_LEAKY, d->slope);
    if (dweights || dinput)
        conv2d_backward(rt, dinput ? A(gan->d_dx) : NONE, W(DG(D_C1)), W(DG(D_C1B)), dh0, x, DP(D_C1),
                        d_geom(gan, 0), d->d_hidden[0], n, col, tmp);
#undef W
}

void dcgan_discriminator_gp_backward(gancl_gan *gan, int row0) {
    const gancl_runtime *rt = gan->rt;
    const gancl_gan_dims *d = &gan->dims;
    const int B = gan->batch;
    const size_t r0 = (size_t)row0, F0 = (size_t)gan->d_feat[0], F1 = (size_t)gan->d_feat[1];
    gancl_ptr col = A(gan->col), tmp = A(gan->tmp), u = A(gan->d_dx), t1 = A(gan->d_tan[0]), t2 = A(gan->d_tan[1]);
    gancl_ptr h0 = A(gan->d_h[0] + r0 * F0), h1 = A(gan->d_h[1] + r0 * F1);
    // tangent forward: t1 = M0 * conv1(u), t2 = M1 * conv2(t1); M = dropout mask * leaky'(primal)
    conv2d_forward(rt, t1, u, DP(D_C1), NONE, d_geom(gan, 0), d->d_hidden[0], B, col, tmp);
    d_dropout(gan, t1, 0, row0, B);
    bias_act_backward(rt, t1, h0, NONE, B, (int)F0, GANCL_ACT_LEAKY, d->slope);
    conv2d_forward(rt, t2, t1, DP(D_C2), NONE, d_geom(gan, 1), d->d_hidden[1], B, col, tmp);
    d_dropout(gan, t2, 1, row0, B);
    bias_act_backward(rt, t2, h1, NONE, B, (int)F1, GANCL_ACT_LEAKY, d->slope);
    // s = sum_b t2 @ W^T; back through the chain (t2, t1 overwritten after their use as inputs)
    gancl_ptr ones = A(gan->d_dlogit + r0);
    gan_loss_forward_backward(rt, ones, A(gan->d_logit + r0), B, GANCL_LOSS_KIND_LINEAR, 1.0f, 1.0f,
                              gan->acc, -1, 0.0f, -1);
    linear_backward(rt, t2, DG(D_FC), NONE, ones, A(gan->d_logit + r0), t2, DP(D_FC), B, (int)F1, 1,
                    GANCL_ACT_NONE, 0.0f);
    d_dropout(gan, t2, 1, row0, B);
    bias_act_backward(rt, t2, h1, NONE, B, (int)F1, GANCL_ACT_LEAKY, d->slope);
    conv2d_backward(rt, t1, DG(D_C2), NONE, t2, t1, DP(D_C2), d_geom(gan, 1), d->d_hidden[1], B, col, tmp);
    d_dropout(gan, t1, 0, row0, B);
    bias_act_backward(rt, t1, h0, NONE, B, (int)F0, GANCL_ACT_LEAKY, d->slope);
    conv2d_backward(rt, NONE, DG(D_C1), NONE, t1, u, DP(D_C1), d_geom(gan, 0), d->d_hidden[0], B, col, tmp);
}
