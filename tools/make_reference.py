#!/usr/bin/python3
"""Writes the fixtures tests/test_gan.c compares gan-cl against, computed by PyTorch (float64):
tests/fixtures/mlp_gan_reference.bin, a tiny MLP GAN trained for 3 iterations,
tests/fixtures/dcgan_reference.bin, a DCGAN with few channels after one iteration, and
tests/fixtures/cgan_reference.bin, the tiny MLP GAN made conditional (--conditional: both
networks begin with an Embedding(10, 10) of the class, concatenated after their input, as
PyTorch-GAN's cgan), trained for 3 iterations; the fakes are asked for the real batch's classes;
tests/fixtures/pgan_reference.bin, the same with a projection discriminator (--d-conditioning
projection: D's last Linear becomes Linear(F, 1)(h) + Embedding(10, F)(y) . h, Miyato & Koyama);
tests/fixtures/ssgan_reference.bin, a tiny semi-supervised GAN (--model ssgan, Salimans et al.
2016) trained for 2 iterations (layout at write_ssgan below).

Run by hand (Debian: apt-get install python3-torch), from the repository root:
    /usr/bin/python3 tools/make_reference.py
The architectures and iteration are gan-cl's (see include/gancl/gan.h). MLP: G = Linear,
LeakyReLU(0.2), BatchNorm1d(eps=1e-3, momentum=0.2) per hidden layer, then Linear and tanh;
D = Linear, LeakyReLU per hidden layer, then Linear to one logit. DCGAN: the TensorFlow
tutorial's layers with channels (4, 3, 2) in G and (2, 3) in D, LeakyReLU(0.3), BatchNorm
momentum 0.01, and dropout 0 (its masks are tested on their own). BCE on logits; PyTorch-GAN
order (G step, then D step on the same fakes, detached); Adam for both.

File layout (little-endian): int32 magic 20261127, int32 version 1, int32 B, Z, H0, H1, H2, I,
DH0, DH1, STEPS (H: G's widths or channels, DH: D's), and in versions 2 (conditional) and 3
(conditional, projection D) CLASSES, then float32 arrays (versions 2 and 3: with int32
labels[STEPS][B] after x):
  g_params0, d_params0             initial parameters in gan-cl's table order
  z[STEPS][B][Z], x[STEPS][B][I]   the noise and real batch of each iteration
  losses[STEPS][2]                 (g_loss, d_loss) of each iteration
  g_grads1, d_grads1               the gradients of iteration 1
  g_params, d_params, running      after STEPS iterations (running: mean, var per BN layer)
"""
import struct

import numpy as np
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)

LR, BETAS, EPS = 1e-2, (0.5, 0.999), 1e-8
# A gradient that is zero in exact arithmetic (a Linear bias feeding a unit that is negative for
# the whole batch, whose shift BatchNorm then removes) makes Adam step by +-lr on rounding noise,
# so no two implementations agree there. Seeds are tried until every gradient of every
# iteration is clearly non-zero.
MIN_GRAD = 1e-6


def flat(tensors):
    return torch.cat([t.detach().reshape(-1) for t in tensors])


class Conditional(nn.Module):
    """net([input, Embedding(classes, dim)(label)]): the embedding is registered first, so it
    leads the parameter order, as layer 0 does in gan-cl's table."""

    def __init__(self, classes, dim, net):
        super().__init__()
        self.embed = nn.Embedding(classes, dim)
        self.net = net

    def forward(self, x, y):
        return self.net(torch.cat([x, self.embed(y)], 1))


class Projection(nn.Module):
    """The projection discriminator's output on features h: linear(h) + embed(y) . h."""

    def __init__(self, classes, features):
        super().__init__()
        self.linear = nn.Linear(features, 1)
        self.embed = nn.Embedding(classes, features)

    def forward(self, h, y):
        return self.linear(h) + (self.embed(y) * h).sum(1, keepdim=True)


class ProjectionD(nn.Module):
    def __init__(self, net, head):
        super().__init__()
        self.net = net
        self.head = head

    def forward(self, x, y):
        return self.head(self.net(x), y)


def mlp(Z, H, I, DH, classes=0, projection=False):
    g_layers, width = [], Z + classes
    for h in H:
        g_layers += [nn.Linear(width, h), nn.LeakyReLU(0.2), nn.BatchNorm1d(h, eps=1e-3, momentum=0.2)]
        width = h
    G = nn.Sequential(*g_layers, nn.Linear(width, I), nn.Tanh())
    d_layers, width = [], I + (0 if projection else classes)
    for h in DH:
        d_layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
        width = h
    if projection:
        return Conditional(classes, classes, G), ProjectionD(nn.Sequential(*d_layers), Projection(classes, width))
    D = nn.Sequential(*d_layers, nn.Linear(width, 1))
    if classes:
        return Conditional(classes, classes, G), Conditional(classes, classes, D)
    return G, D


def cmlp(Z, H, I, DH):
    return mlp(Z, H, I, DH, classes=10)


def pmlp(Z, H, I, DH):
    return mlp(Z, H, I, DH, classes=10, projection=True)


def dcgan(Z, H, I, DH):
    c0, c1, c2 = H
    e0, e1 = DH
    bn = dict(eps=1e-3, momentum=0.01)
    G = nn.Sequential(
        nn.Linear(Z, c0 * 49, bias=False), nn.BatchNorm1d(c0 * 49, **bn), nn.LeakyReLU(0.3),
        nn.Unflatten(1, (c0, 7, 7)),
        nn.ConvTranspose2d(c0, c1, 5, 1, 2, bias=False), nn.BatchNorm2d(c1, **bn), nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(c1, c2, 5, 2, 2, output_padding=1, bias=False), nn.BatchNorm2d(c2, **bn),
        nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(c2, 1, 5, 2, 2, output_padding=1, bias=False), nn.Tanh(), nn.Flatten())
    D = nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, e0, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.0),
        nn.Conv2d(e0, e1, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.0),
        nn.Flatten(), nn.Linear(e1 * 49, 1))
    return G, D


def train(seed, model, B, Z, H, I, DH, STEPS, classes, projection):
    torch.manual_seed(seed)
    G, D = model(Z, H, I, DH)
    with torch.no_grad():  # non-trivial BatchNorm affine parameters
        for m in G.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    # gan-cl's table order is PyTorch's parameter order: per hidden layer W, b, gamma, beta
    out = {'g0': flat(G.parameters()), 'd0': flat(D.parameters())}
    bce = nn.BCEWithLogitsLoss()
    opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS, eps=EPS)
    opt_d = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS, eps=EPS)
    out['z'] = torch.randn(STEPS, B, Z)
    out['x'] = torch.rand(STEPS, B, I) * 2 - 1
    out['y'] = torch.randint(0, max(classes, 1), (STEPS, B))
    ones, zeros = torch.ones(B, 1), torch.zeros(B, 1)
    losses, smallest = [], float('inf')
    # the Embedding rows of classes absent from a batch get exactly zero gradient in both
    # implementations: the smallest-gradient check skips the tables (G's first; D's first, or
    # with the projection its last)
    skip = classes * classes
    d_skip = (0, classes * DH[-1]) if projection else (skip, 0)
    for s in range(STEPS):
        if classes:
            y = out['y'][s]
            g_net, d_net = (lambda v: G(v, y)), (lambda v: D(v, y))
        else:
            g_net, d_net = G, D
        opt_g.zero_grad()
        fake = g_net(out['z'][s])
        g_loss = bce(d_net(fake), ones)
        g_loss.backward()
        g_grads = flat(p.grad for p in G.parameters())
        opt_g.step()
        opt_d.zero_grad()
        d_loss = (bce(d_net(out['x'][s]), ones) + bce(d_net(fake.detach()), zeros)) / 2
        d_loss.backward()
        d_grads = flat(p.grad for p in D.parameters())
        opt_d.step()
        if s == 0:
            out['gg1'], out['dg1'] = g_grads, d_grads
        d_checked = d_grads[d_skip[0]:len(d_grads) - d_skip[1]]
        smallest = min(smallest, g_grads[skip:].abs().min().item(), d_checked.abs().min().item())
        losses.append([g_loss.item(), d_loss.item()])
    out['losses'] = torch.tensor(losses)
    out['g3'], out['d3'] = flat(G.parameters()), flat(D.parameters())
    out['run3'] = flat(torch.cat([m.running_mean, m.running_var]) for m in G.modules()
                       if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)))
    return out, smallest


def write(path, model, B, Z, H, I, DH, STEPS, classes=0, projection=False):
    seed = 20261127
    while True:
        ref, smallest = train(seed, model, B, Z, H, I, DH, STEPS, classes, projection)
        if smallest > MIN_GRAD:
            break
        seed += 1
    with open(path, 'wb') as f:
        if classes:
            f.write(struct.pack('<12i', 20261127, 3 if projection else 2, B, Z, *H, I, *DH, STEPS, classes))
        else:
            f.write(struct.pack('<11i', 20261127, 1, B, Z, *H, I, *DH, STEPS))
        for key in ['g0', 'd0', 'z', 'x', 'y', 'losses', 'gg1', 'dg1', 'g3', 'd3', 'run3']:
            if key == 'y':
                if classes:
                    f.write(np.asarray(ref['y'].numpy(), dtype='<i4').tobytes())
                continue
            f.write(np.asarray(ref[key].numpy(), dtype='<f4').tobytes())
    print(f'{path}: seed {seed}, smallest gradient {smallest:.3g}, losses {ref["losses"].tolist()}')


# ---- the semi-supervised GAN ----
# Its noise comes from inside the iteration: G's input uniforms and D's GaussianNoise layers are
# gan-cl's Philox4x32-10 streams (cl/rng.cl), recomputed here bit for bit in integers, then
# turned into floats in double.
M32 = 0xFFFFFFFF


def philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of counters (c0 [array], c1, c2, c3) under key (k0, k1): 4 uint32 arrays."""
    x = np.asarray(c0, dtype=np.uint64)
    y, z, w = (np.full_like(x, v) for v in (c1, c2, c3))
    for _ in range(10):
        p0, p1 = x * np.uint64(0xD2511F53), z * np.uint64(0xCD9E8D57)
        x, y, z, w = ((p1 >> np.uint64(32)) ^ y ^ np.uint64(k0)), p1 & np.uint64(M32), \
            ((p0 >> np.uint64(32)) ^ w ^ np.uint64(k1)), p0 & np.uint64(M32)
        k0, k1 = (k0 + 0x9E3779B9) & M32, (k1 + 0xBB67AE85) & M32
    return x, y, z, w


def u01(r):
    return ((r >> np.uint64(8)).astype(np.float64) + 0.5) / 16777216.0


def uniforms(n, seed, c1, c2):
    """randu: element 4i + k is u01 of word k of counter (i, c1, c2, 1)."""
    r = philox(np.arange((n + 3) // 4), c1, c2, 1, seed & M32, seed >> 32)
    return np.stack([u01(v) for v in r], 1).reshape(-1)[:n]


def normals(first, n, seed, c1, c2):
    """gaussian_noise's normals of elements first .. first + n: Box-Muller on counter (i / 4, c1,
    c2, 3)."""
    blocks = np.arange(first // 4, (first + n + 3) // 4)
    r = [u01(v) for v in philox(blocks, c1, c2, 3, seed & M32, seed >> 32)]
    ra, rb = np.sqrt(-2 * np.log(r[0])), np.sqrt(-2 * np.log(r[2]))
    t = 2 * np.pi
    z = np.stack([ra * np.cos(t * r[1]), ra * np.sin(t * r[1]), rb * np.cos(t * r[3]), rb * np.sin(t * r[3])], 1)
    z = z.reshape(-1)
    return z[first - blocks[0] * 4:first - blocks[0] * 4 + n]


class WNLinear(nn.Module):
    """A weight-normalised Linear in gan-cl's (and PyTorch weight_norm's) terms: weight =
    weight_g v / ||v|| per output row; parameters in gan-cl's table order v, g, bias. train_g
    False: g is not trained (improved-gan's DenseLayer with train_scale=False)."""

    def __init__(self, i, o, train_g=True):
        super().__init__()
        self.weight_v = nn.Parameter(torch.empty(o, i).uniform_(-1, 1) / i ** 0.5)
        self.weight_g = nn.Parameter(torch.empty(o, 1).uniform_(0.5, 1.5), requires_grad=train_g)
        self.bias = nn.Parameter(torch.empty(o).uniform_(-0.5, 0.5))

    def forward(self, x):
        w = self.weight_g * self.weight_v / self.weight_v.norm(dim=1, keepdim=True)
        return x @ w.t() + self.bias


D_STREAM, G_Z_STREAMS = 0x60000, (0x10000, 0x50000)


class SSD(nn.Module):
    """D: GaussianNoise 0.3, (WNLinear, ReLU, GaussianNoise 0.5) per width, WNLinear 10; the
    noise of random layer k from stream D_STREAM | k << 8 | stream << 4 at counter c1 = step."""

    def __init__(self, I, DH):
        super().__init__()
        widths = [I] + list(DH)
        self.hidden = nn.ModuleList(WNLinear(a, b, train_g=False) for a, b in zip(widths, widths[1:]))
        self.out = WNLinear(widths[-1], 10)

    def forward(self, x, seed, step, stream):
        def noise(h, k, sigma):
            z = normals(0, h.numel(), seed, step, D_STREAM | k << 8 | stream << 4)
            return h + sigma * torch.tensor(z).reshape(h.shape)
        h = noise(x, 0, 0.3)
        feat = None
        for k, layer in enumerate(self.hidden):
            feat = torch.relu(layer(h))
            h = noise(feat, k + 1, 0.5)
        return self.out(h), feat


def write_ssgan(path, B, Z, H, I, DH, STEPS, W=1.0, NOISE_SEED=7):
    """Layout (little-endian): int32 magic 20261127, version 4, B, Z, H0, H1, I, DH0, DH1, DH2,
    STEPS, then uint8 images[STEPS][3][B][I] (each step's labelled, unlabelled and second
    unlabelled batch), int32 classes[STEPS][B], then float32 g_params0, d_params0,
    losses[STEPS][3] (labelled, weighted unlabelled, feature matching), g_grads1, d_grads1,
    g_params, d_params, running. The iteration (ssgan.h) at learning rate LR with noise seed
    NOISE_SEED and unlabelled weight W: D step on [labelled; unlabelled; G(z1)], then G step
    by feature matching of the second unlabelled batch against G(z2)."""
    seed = 20261202
    while True:
        torch.manual_seed(seed)
        g_layers, width = [], Z
        for h in H:
            g_layers += [nn.Linear(width, h, bias=False), nn.BatchNorm1d(h, eps=1e-5, momentum=0.1), nn.Softplus()]
            width = h
        G = nn.Sequential(*g_layers, WNLinear(width, I), nn.Sigmoid())
        with torch.no_grad():
            for m in G.modules():
                if isinstance(m, nn.BatchNorm1d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.5, 0.5)
        D = SSD(I, DH)
        out = {'g0': flat(G.parameters()), 'd0': flat(D.parameters())}
        opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS, eps=EPS)
        opt_d = torch.optim.Adam([p for p in D.parameters() if p.requires_grad], lr=LR, betas=BETAS, eps=EPS)
        images = torch.randint(0, 256, (STEPS, 3, B, I))
        classes = torch.randint(0, 10, (STEPS, B))
        losses, smallest = [], float('inf')
        for s in range(STEPS):
            x = images[s].double() / 255
            z1 = torch.tensor(uniforms(B * Z, NOISE_SEED, s, G_Z_STREAMS[0])).reshape(B, Z)
            opt_d.zero_grad()
            fake = G(z1).detach()
            logits, _ = D(torch.cat([x[0], x[1], fake]), NOISE_SEED, s, 0)
            l_lab, l_unl, l_fake = logits[:B], logits[B:2 * B], logits[2 * B:]
            lab = nn.functional.cross_entropy(l_lab, classes[s])
            lse_u, lse_f = torch.logsumexp(l_unl, 1), torch.logsumexp(l_fake, 1)
            sp = nn.functional.softplus
            unl = W * (-0.5 * lse_u.mean() + 0.5 * sp(lse_u).mean() + 0.5 * sp(lse_f).mean())
            (lab + unl).backward()
            d_grads = flat(p.grad if p.requires_grad else torch.zeros_like(p) for p in D.parameters())
            opt_d.step()
            opt_g.zero_grad()
            z2 = torch.tensor(uniforms(B * Z, NOISE_SEED, s, G_Z_STREAMS[1])).reshape(B, Z)
            _, feat = D(torch.cat([x[2], G(z2)]), NOISE_SEED, s, 1)
            fm = ((feat[B:].mean(0) - feat[:B].mean(0)) ** 2).mean()
            fm.backward()
            g_grads = flat(p.grad for p in G.parameters())
            opt_g.step()
            if s == 0:
                out['gg1'], out['dg1'] = g_grads, d_grads
            d_trained = flat(p.grad for p in D.parameters() if p.requires_grad)
            smallest = min(smallest, g_grads.abs().min().item(), d_trained.abs().min().item())
            losses.append([lab.item(), unl.item(), fm.item()])
        if smallest > MIN_GRAD:
            break
        seed += 1
    with open(path, 'wb') as f:
        f.write(struct.pack('<11i', 20261127, 4, B, Z, *H, I, *DH, STEPS))
        f.write(np.asarray(images.numpy(), dtype=np.uint8).tobytes())
        f.write(np.asarray(classes.numpy(), dtype='<i4').tobytes())
        run = flat(torch.cat([m.running_mean, m.running_var]) for m in G.modules() if isinstance(m, nn.BatchNorm1d))
        for t in [out['g0'], out['d0'], torch.tensor(losses), out['gg1'], out['dg1'], flat(G.parameters()),
                  flat(D.parameters()), run]:
            f.write(np.asarray(t.numpy(), dtype='<f4').tobytes())
    print(f'{path}: seed {seed}, smallest gradient {smallest:.3g}, losses {losses}')


write('tests/fixtures/mlp_gan_reference.bin', mlp, 4, 3, (4, 5, 6), 7, (5, 4), 3)
write('tests/fixtures/dcgan_reference.bin', dcgan, 4, 3, (4, 3, 2), 784, (2, 3), 1)
write('tests/fixtures/cgan_reference.bin', cmlp, 4, 3, (4, 5, 6), 7, (5, 4), 3, classes=10)
write('tests/fixtures/pgan_reference.bin', pmlp, 4, 3, (4, 5, 6), 7, (5, 4), 3, classes=10, projection=True)
write_ssgan('tests/fixtures/ssgan_reference.bin', 4, 3, (5, 6), 7, (6, 5, 4), 2)
