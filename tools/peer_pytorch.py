#!/usr/bin/env python3
"""The PyTorch peer of `gan-cl bench`: the same MLP GAN or DCGAN, the same batch, the same iteration
(G step on BCE(D(G(z)), 1), then D step on real and detached fakes, Adam for both), on random
data, on the CPU with --threads threads.
It follows the PyTorch-GAN example and computes D(fake.detach()) again in the D step, as a
PyTorch user would; gan-cl reuses that forward pass.

usage: tools/peer_pytorch.py [--model mlp|dcgan] [--batch-size 64] [--iters 50] [--threads 1]
       (run it with the Python of the venv that tools/setup-peers makes, or any with PyTorch)
Prints one line: "peer: mlp, batch B: median X ms/iteration ..." (the same shape as bench's)."""
import argparse
import statistics
import time

import torch
import torch.nn as nn


def mlp_gan(latent=100):
    g, width = [], latent
    for h in (256, 512, 1024):
        g += [nn.Linear(width, h), nn.LeakyReLU(0.2), nn.BatchNorm1d(h, eps=1e-3, momentum=0.2)]
        width = h
    G = nn.Sequential(*g, nn.Linear(width, 784), nn.Tanh())
    D = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2),
                      nn.Linear(256, 1))
    return G, D


def dcgan(latent=100):
    bn = dict(eps=1e-3, momentum=0.01)
    G = nn.Sequential(
        nn.Linear(latent, 256 * 49, bias=False), nn.BatchNorm1d(256 * 49, **bn), nn.LeakyReLU(0.3),
        nn.Unflatten(1, (256, 7, 7)),
        nn.ConvTranspose2d(256, 128, 5, 1, 2, bias=False), nn.BatchNorm2d(128, **bn), nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(128, 64, 5, 2, 2, output_padding=1, bias=False), nn.BatchNorm2d(64, **bn),
        nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(64, 1, 5, 2, 2, output_padding=1, bias=False), nn.Tanh(), nn.Flatten())
    D = nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 64, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
        nn.Conv2d(64, 128, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(128 * 49, 1))
    return G, D


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', choices=['mlp', 'dcgan'], default='mlp')
    ap.add_argument('--batch-size', type=int, default=None)
    ap.add_argument('--iters', type=int, default=50)
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)  # denormals slowed this loop tenfold on x86 (measured)
    torch.manual_seed(1)
    G, D = mlp_gan() if a.model == 'mlp' else dcgan()
    lr = 2e-4 if a.model == 'mlp' else 1e-4
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    B = a.batch_size or (64 if a.model == 'mlp' else 256)
    data = torch.rand(4096, 784) * 2 - 1
    ones, zeros = torch.ones(B, 1), torch.zeros(B, 1)

    def iteration(i):
        real = data[(i * B) % (4096 - B):][:B]
        opt_g.zero_grad()
        fake = G(torch.randn(B, 100))
        g_loss = bce(D(fake), ones)
        g_loss.backward()
        opt_g.step()
        opt_d.zero_grad()
        d_loss = (bce(D(real), ones) + bce(D(fake.detach()), zeros)) / 2
        d_loss.backward()
        opt_d.step()

    for i in range(3):
        iteration(i)
    groups, per_group = [], max(1, a.iters // 5)
    for g in range(5):
        t0 = time.perf_counter()
        for i in range(per_group):
            iteration(i)
        groups.append((time.perf_counter() - t0) * 1e3 / per_group)
    med = statistics.median(groups)
    print(f'peer: {a.model}, batch {B}, PyTorch {torch.__version__}, {a.threads} thread(s): '
          f'median {med:.2f} ms/iteration (min {min(groups):.2f}, max {max(groups):.2f}), {B * 1e3 / med:.0f} img/s')


if __name__ == '__main__':
    main()
