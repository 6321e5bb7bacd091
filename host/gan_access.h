/* gan_access.h (private to gan.c and dcgan.c): short names for the tensors of a gancl_gan
 * called `gan` in scope: an activation, G's and D's parameters (P) and gradients (G). */
#ifndef GANCL_GAN_ACCESS_H
#define GANCL_GAN_ACCESS_H

#include "gancl/gan.h"

static const gancl_ptr NONE = {NULL, 0};
#define A(off) gancl_gan_act(gan, (off))
#define GP(i) gancl_gan_param(gan->g_buf, &gan->g, (i), 0)
#define GG(i) gancl_gan_param(gan->g_buf, &gan->g, (i), 1)
#define DP(i) gancl_gan_param(gan->d_buf, &gan->d, (i), 0)
#define DG(i) gancl_gan_param(gan->d_buf, &gan->d, (i), 1)

#endif
