#!/usr/bin/python3
"""Writes tests/fixtures/score_reference.txt, the values tests/test_score.c checks gan-cl's
scores (host/score.c) against, computed here by NumPy and SciPy in float64.

Run by hand (Debian: apt-get install python3-numpy python3-scipy), from the repository root:
    /usr/bin/python3 tools/make_score_fixture.py

The feature sets are not stored: both sides make them from splitmix64 with the same
arithmetic (see features() here and in tests/test_score.c), rounded to float32 at the end.
  real:  500 x 32, scale 1.0, shift 0.0, correlation 0.3, seed 1
  fake:  400 x 32, scale 0.8, shift 0.1, correlation 0.5, seed 2
  real2: 450 x 32, as real but seed 3 (the same distribution)
FID is the usual formula with scipy.linalg.sqrtm(c1 @ c2); precision and recall follow
Kynkaanniemi et al. 2019 with k = 3 (radius: distance to the 3rd nearest neighbour within
the set, the point itself not counted), as in their reference code.
"""
import numpy as np
import scipy.linalg

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.s = seed

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)


def features(n, dim, scale, shift, corr, seed):
    rng = SplitMix64(seed)
    out = np.zeros((n, dim), dtype=np.float32)
    for i in range(n):
        prev = 0.0
        for j in range(dim):
            a = rng.uniform()
            b = rng.uniform()
            c = rng.uniform()
            base = a + b + c - 1.5
            x = base * scale * (1.0 + j / dim) + shift + corr * prev
            prev = x
            out[i, j] = x
    return out


def fid(x, y):
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    mu1, mu2 = x.mean(0), y.mean(0)
    c1, c2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    root = scipy.linalg.sqrtm(c1 @ c2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * np.trace(root))


def sqdist(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)


def radii(x, k=3):
    return np.partition(sqdist(x, x), k, axis=1)[:, k]


def coverage(refs, queries, k=3):
    r = radii(refs, k)
    return float((sqdist(queries, refs) <= r[None, :]).any(axis=1).mean())


def main():
    real = features(500, 32, 1.0, 0.0, 0.3, 1)
    fake = features(400, 32, 0.8, 0.1, 0.5, 2)
    real2 = features(450, 32, 1.0, 0.0, 0.3, 3)
    eig = np.linalg.eigvalsh(np.cov(real.astype(np.float64), rowvar=False))
    lines = [
        "# tools/make_score_fixture.py (NumPy %s, SciPy %s)" % (np.__version__, scipy.__version__),
        "first_features %.9g %.9g %.9g" % (real[0, 0], real[0, 1], fake[399, 31]),
        "eigenvalues " + " ".join("%.17g" % v for v in eig),
        "fid_real_fake %.17g" % fid(real, fake),
        "fid_real_real2 %.17g" % fid(real, real2),
        "precision_real_fake %.17g" % coverage(real, fake),
        "recall_real_fake %.17g" % coverage(fake, real),
        "precision_real_real2 %.17g" % coverage(real, real2),
        "recall_real_real2 %.17g" % coverage(real2, real),
    ]
    with open("tests/fixtures/score_reference.txt", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(l[:120] for l in lines))


if __name__ == "__main__":
    main()
