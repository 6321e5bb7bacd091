#!/usr/bin/env python3
"""Writes the fuzz seed corpora that cannot be plain hand-made files:
tests/fuzz/corpus/cache (kernel-cache entries, whose header holds a key and a SHA-256),
tests/fuzz/corpus/tuning (a tuning file for the fuzz target's device names, cut from a real one
when given), tests/fuzz/corpus/cli (argv lists, arguments separated by NUL bytes) and
tests/fuzz/corpus/png (small pictures of a digit in PNG's colour types and bit depths).

usage: tools/make_fuzz_seeds.py [REAL_TUNING_FILE.json]
"""
import hashlib
import json
import os
import struct
import sys
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz", "corpus")


def put(sub, name, data):
    os.makedirs(os.path.join(ROOT, sub), exist_ok=True)
    with open(os.path.join(ROOT, sub, name), "wb") as f:
        f.write(data)


def cache_entry(binary, key=None):
    key = key or hashlib.sha256(b"gan-cl fuzz key").digest()  # as in tests/fuzz/fuzz_cache.c
    head = b"GANCLBIN" + struct.pack("<I", 1) + key + struct.pack("<Q", len(binary))
    return head + hashlib.sha256(binary).digest() + binary


put("cache", "valid", cache_entry(b"\x7fELF" + bytes(range(60))))
put("cache", "empty-binary", cache_entry(b""))
put("cache", "other-key", cache_entry(b"binary", hashlib.sha256(b"another").digest()))

tuning = {"format": "gan-cl-tuning", "version": 4, "device": "fuzz-device", "driver": "fuzz-driver",
          "platform": "fuzz", "clblast": {"default": 7.0, "xgemm-64x64-k32-v8-c4": 42.7},
          "clblast_best": "xgemm-64x64-k32-v8-c4",
          "shapes": {"NT 64x256x100": {"clblast": 14.2, "matmul": 1.8, "nt-4x4": 24.6}},
          "plan": {"NT 64x256x100": "nt-4x4"}, "sliced": ["NT 64x256x100"], "tuned_for": ["mlp b64"]}
if len(sys.argv) > 1:  # a real file, renamed for the fuzz device, with its first shapes
    with open(sys.argv[1]) as f:
        real = json.load(f)
    keep = list(real.get("shapes", {}))[:6]
    real.update(device="fuzz-device", driver="fuzz-driver")
    real["shapes"] = {k: real["shapes"][k] for k in keep}
    real["plan"] = {k: v for k, v in real.get("plan", {}).items() if k in keep}
    real["sliced"] = [k for k in real.get("sliced", []) if k in keep] or keep[-1:]
    tuning = real
put("tuning", "tuning.json", json.dumps(tuning, indent=1).encode())

for name, args in {
    "train": ["--epochs", "30", "--model", "dcgan", "--loss=wgan-gp", "--gp-weight", "10"],
    "train-layers": ["--g-layers", "256,512,1024", "--d-layers=1024,512", "--latent-dim", "64", "--ema", "0.99"],
    "train-rmsprop": ["--optimizer", "rmsprop", "--loss", "wgan", "--clip", "0.01", "--n-critic", "5", "--lr", "5e-5"],
    "generate": ["generate", "--checkpoint", "c.safetensors", "--out", "s.idx", "--format", "idx", "--count", "100"],
    "score": ["score", "--images", "s.idx", "--count", "1000", "--seed", "3", "--json"],
    "bench": ["bench", "--model=mlp", "--batch-size", "4096", "--iters", "5", "--gemm", "nt-4x4"],
    "tune": ["tune", "--model", "classifier", "--batch-size", "128", "--device", "0"],
    "train-conditional": ["--conditional", "--d-conditioning", "projection", "--model", "dcgan"],
    "generate-digits": ["generate", "--checkpoint", "c.safetensors", "--out", "d.png", "--digits", "38",
                        "--interpolate"],
    "classify": ["classify", "a.png", "b.png", "--labels", "l.idx", "--images", "c.idx", "--quiet"],
}.items():
    put("cli", name, "\0".join(args).encode())


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width, height, depth, colour, rows, extra=b""):
    """A PNG: IHDR, the extra chunks (PLTE, tRNS), one IDAT of the rows (filter byte 0 each)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw)) +
            chunk(b"IEND", b""))


W, H = 24, 32  # a "7": a bar along the top, a diagonal down to the bottom left


def ink(x, y):
    return (4 <= y <= 7 and 4 <= x <= 19) or (y > 7 and y < 28 and abs(x - (19 - (y - 7) * 12 // 20)) <= 2)


def rows(pixel):
    return [b"".join(pixel(ink(x, y)) for x in range(W)) for y in range(H)]


put("png", "grey8", png(W, H, 8, 0, rows(lambda i: bytes([0 if i else 255]))))
put("png", "grey16", png(W, H, 16, 0, rows(lambda i: struct.pack(">H", 65535 if i else 900))))
put("png", "grey-alpha", png(W, H, 8, 4, rows(lambda i: bytes([255, 255 if i else 0]))))
put("png", "rgb", png(W, H, 8, 2, rows(lambda i: bytes([20, 30, 140] if i else [250, 240, 120]))))
put("png", "rgba16", png(W, H, 16, 6, rows(lambda i: struct.pack(">4H", 0, 0, 0, 65535 if i else 0))))
plte_trns = chunk(b"PLTE", bytes([0, 0, 0, 255, 255, 255])) + chunk(b"tRNS", bytes([255, 0]))
packed = [bytes(int("".join("0" if ink(x, y) else "1" for x in range(k, k + 8)), 2) for k in range(0, W, 8))
          for y in range(H)]
put("png", "palette1-trns", png(W, H, 1, 3, packed, plte_trns))
