"""PyTorch peer of `lorae bench step`: the median time of one training step (forward, MSE loss, backward,
Adam) of lorae's networks (SPEC.md), on a fixed random batch, on the CPU.

Same model and loop as ../shared/reference/torch_step.py for the MNIST layout, plus the shapes
layout (all-convolutional, d = 32) so that every configuration `lorae bench step` times has a peer.

Usage: python crates/lorae/peers/torch_step.py [--layout mnist|shapes|celeba] [--model irmae|lorae|ae]
                                  [--batch 32] [--steps 40] [--warmup 5] [--threads 2] [--layers 8] [--lam 1e-3]
Prints a human line, then one JSON line: {"torch": version, "median_ms": .., "threads": ..,
"steps": .., "times_ms": [every timed step]}.

With `--epoch DIR [--train-size N] [--test-size M] [--lr 1e-4]` (the peer of `lorae bench epoch`)
it times one whole epoch instead, as lorae's training loop runs it: the first N training images in a
shuffled order at --batch, then the evaluation lorae does after every epoch: reconstruction MSE of
the first M evaluation images in batches of 250, their codes' covariance and its singular values
(the effective rank at --rank-threshold). DIR is MNIST's folder for `--layout mnist` (IDX files,
digits resized 28 -> 32 bilinearly) and a folder of images for `--layout celeba` (lorae's folder
dataset at 64×64: sorted paths, every tenth held out). Pixels are in [0, 1]. Loading, resizing and
the conversion to floats are not timed (lorae converts each batch's bytes as it trains, inside its
epoch; its resize is the image crate's, of bytes, so resized images differ from these by rounding).
JSON: {"torch", "threads", "epoch_s", "train_s", "eval_s", "eval_mse", "rank", "step_median_ms"
(the median training step inside the epoch), "steps_ms"}.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--layout", default="mnist", choices=["mnist", "shapes", "celeba"])
p.add_argument("--model", default="irmae", choices=["ae", "irmae", "lorae"])
p.add_argument("--batch", type=int, default=32)
p.add_argument("--steps", type=int, default=40)
p.add_argument("--warmup", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--layers", type=int, default=8)
p.add_argument("--lam", type=float, default=1e-3)
p.add_argument("--epoch", metavar="DIR", help="time one epoch on MNIST (--layout mnist) or a folder of images (--layout celeba)")
p.add_argument("--train-size", type=int, default=60000)
p.add_argument("--test-size", type=int, default=10000)
p.add_argument("--lr", type=float, default=1e-4)
p.add_argument("--rank-threshold", type=float, default=1e-2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)


def conv(i, o):
    return nn.Conv2d(i, o, 4, 2, 1)


def convt(i, o):
    return nn.ConvTranspose2d(i, o, 4, 2, 1)


class Net(nn.Module):
    """encode: the encoder, then the linear chain; decode: the FC layer (if any) reshaped to
    `start`, then the decoder."""

    def encode(s, x):
        return s.lin(s.enc(x))

    def decode(s, z):
        return s.dec(s.fc(z).view(-1, *s.start))

    def forward(s, x):
        return s.decode(s.encode(x))


class Mnist(Net):
    """1×32×32, d = 128: conv encoder + FC, FC + deconv decoder, 1×1 output conv, Tanh."""

    def __init__(s, n_lin, d=128):
        super().__init__()
        s.enc = nn.Sequential(conv(1, 32), nn.ReLU(), conv(32, 64), nn.ReLU(), conv(64, 128), nn.ReLU(),
                              conv(128, 256), nn.ReLU(), nn.Flatten(), nn.Linear(1024, d))
        s.lin = nn.Sequential(*[nn.Linear(d, d, bias=False) for _ in range(n_lin)])
        s.fc = nn.Linear(d, 8 * 8 * 128)
        # ReLU after the FC layer, as the official MNIST_Decoder (and lorae's MNIST decoder).
        s.dec = nn.Sequential(nn.ReLU(), convt(128, 64), nn.ReLU(), convt(64, 32), nn.ReLU(), nn.Conv2d(32, 1, 1), nn.Tanh())
        s.start = (128, 8, 8)
        s.shape = (1, 32, 32)


class Shapes(Net):
    """3×32×32, d = 32: all-convolutional encoder to 1×1, transposed convolutions back, Tanh."""

    def __init__(s, n_lin, d=32):
        super().__init__()
        s.enc = nn.Sequential(conv(3, 32), nn.ReLU(), conv(32, 64), nn.ReLU(), conv(64, 128), nn.ReLU(),
                              conv(128, 256), nn.ReLU(), conv(256, d), nn.Flatten())
        s.lin = nn.Sequential(*[nn.Linear(d, d, bias=False) for _ in range(n_lin)])
        s.fc = nn.Identity()
        s.dec = nn.Sequential(convt(d, 256), nn.ReLU(), convt(256, 128), nn.ReLU(), convt(128, 64), nn.ReLU(),
                              convt(64, 32), nn.ReLU(), convt(32, 3), nn.Tanh())
        s.start = (d, 1, 1)
        s.shape = (3, 32, 32)


class Celeba(Net):
    """3×64×64, d = 512: conv encoder + FC, FC (no ReLU) + deconv decoder, 1×1 output conv, Tanh."""

    def __init__(s, n_lin, d=512):
        super().__init__()
        s.enc = nn.Sequential(conv(3, 128), nn.ReLU(), conv(128, 256), nn.ReLU(), conv(256, 512), nn.ReLU(),
                              conv(512, 1024), nn.ReLU(), nn.Flatten(), nn.Linear(1024 * 4 * 4, d))
        s.lin = nn.Sequential(*[nn.Linear(d, d, bias=False) for _ in range(n_lin)])
        s.fc = nn.Linear(d, 8 * 8 * 1024)
        s.dec = nn.Sequential(convt(1024, 512), nn.ReLU(), convt(512, 256), nn.ReLU(), convt(256, 128), nn.ReLU(),
                              nn.Conv2d(128, 3, 1), nn.Tanh())
        s.start = (1024, 8, 8)
        s.shape = (3, 64, 64)


n_lin = {"ae": 0, "irmae": a.layers, "lorae": 1}[a.model]
m = {"mnist": Mnist, "shapes": Shapes, "celeba": Celeba}[a.layout](n_lin)
opt = torch.optim.Adam(m.parameters(), lr=a.lr)


def train_step(x):
    y = m(x)
    loss = ((y - x) ** 2).mean()
    if a.model == "lorae":
        loss = loss + a.lam * torch.linalg.matrix_norm(m.lin[0].weight, ord="nuc")
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


def idx_images(path, n):
    """The first n images of an IDX file (raw or gzipped) as a [n, 1, 32, 32] tensor in [0, 1]."""
    import gzip
    import os
    import numpy as np
    opener = gzip.open if not os.path.exists(path) and os.path.exists(path + ".gz") else open
    with opener(path + (".gz" if opener is gzip.open else ""), "rb") as f:
        data = f.read()
    count, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    n = min(n, count)
    digits = np.frombuffer(data, np.uint8, n * rows * cols, 16).reshape(n, 1, rows, cols)
    x = torch.from_numpy(digits.astype(np.float32) / 255.0)
    return torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)


def folder_images(root, side):
    """lorae's folder dataset: every PNG/JPEG under root in sorted path order, every tenth (positions
    9, 19, …) held out for evaluation; RGB, centre-cropped to a square and resized to side (bilinear,
    Pillow's; a no-op for images already side × side). Returns (train, eval) in [0, 1]. As lorae:
    links are followed, a directory or file reached twice is taken once, only regular files count,
    a name like `.png` has no extension, and paths sort component by component."""
    import os
    import numpy as np
    from PIL import Image

    def is_image(name):
        stem, ext = os.path.splitext(name)
        return stem != "" and ext[1:].lower() in ("png", "jpg", "jpeg")

    files, seen_dirs, seen_files = [], set(), set()

    def collect(d):
        real = os.path.realpath(d)
        if real in seen_dirs:
            return
        seen_dirs.add(real)
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if os.path.isdir(path):
                collect(path)
            elif os.path.isfile(path) and is_image(name) and os.path.realpath(path) not in seen_files:
                seen_files.add(os.path.realpath(path))
                files.append(path)

    collect(root)
    files.sort(key=lambda f: os.path.relpath(f, root).split(os.sep))

    def load(path):
        img = Image.open(path).convert("RGB")
        w, h = img.size
        c = min(w, h)
        img = img.crop(((w - c) // 2, (h - c) // 2, (w - c) // 2 + c, (h - c) // 2 + c))
        if img.size != (side, side):
            img = img.resize((side, side), Image.BILINEAR)
        return np.asarray(img, np.uint8).transpose(2, 0, 1)

    def stack(paths):
        return torch.from_numpy(np.stack([load(f) for f in paths]).astype(np.float32) / 255.0)

    evals = [f for i, f in enumerate(files) if i % 10 == 9][:a.test_size]
    trains = [f for i, f in enumerate(files) if i % 10 != 9][:a.train_size]
    return stack(trains), stack(evals)


if a.epoch:
    import os
    if a.layout == "celeba":
        train, test = folder_images(a.epoch, 64)
    elif a.layout == "mnist":
        train = idx_images(os.path.join(a.epoch, "train-images-idx3-ubyte"), a.train_size)
        test = idx_images(os.path.join(a.epoch, "t10k-images-idx3-ubyte"), a.test_size)
    else:
        raise SystemExit("--epoch times the mnist layout (IDX files) or the celeba layout (a folder)")
    t0 = time.perf_counter()
    steps_ms = []
    for idx in torch.randperm(len(train)).split(a.batch):
        s0 = time.perf_counter()
        train_step(train[idx])
        steps_ms.append((time.perf_counter() - s0) * 1e3)
    t1 = time.perf_counter()
    with torch.no_grad():
        sq, codes = 0.0, []
        for x in test.split(250):
            z = m.encode(x)
            sq += ((m.decode(z) - x) ** 2).sum().item()
            codes.append(z.double())
        z = torch.cat(codes)
        z = z - z.mean(0)
        s = torch.linalg.svdvals(z.T @ z / (len(z) - 1))
        rank = int((s / s[0] > a.rank_threshold).sum())
    t2 = time.perf_counter()
    mse = sq / test.numel()
    print(f"torch {torch.__version__} {a.layout} {a.model} batch={a.batch} threads={torch.get_num_threads()}: "
          f"epoch {t2 - t0:.1f} s ({t1 - t0:.1f} training {len(train)} images, {t2 - t1:.1f} evaluating {len(test)}), "
          f"eval mse {mse:.5f}, rank {rank}")
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "epoch_s": t2 - t0,
                      "train_s": t1 - t0, "eval_s": t2 - t1, "eval_mse": mse, "rank": rank,
                      "step_median_ms": statistics.median(steps_ms), "steps_ms": steps_ms}))
    raise SystemExit(0)

x = torch.rand(a.batch, *m.shape) * 2 - 1
ts = []
for i in range(a.warmup + a.steps):
    t0 = time.perf_counter()
    train_step(x)
    if i >= a.warmup:
        ts.append(time.perf_counter() - t0)
median = statistics.median(ts) * 1e3
print(f"torch {torch.__version__} {a.layout} {a.model} batch={a.batch} threads={torch.get_num_threads()}: "
      f"median {median:.1f} ms/step over {len(ts)} steps (min {min(ts)*1e3:.1f}, max {max(ts)*1e3:.1f})")
print(json.dumps({"torch": torch.__version__, "median_ms": median, "threads": torch.get_num_threads(),
                  "steps": len(ts), "times_ms": [t * 1e3 for t in ts]}))
