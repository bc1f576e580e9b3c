"""PyTorch peer of `lorae bench`: the median time of one training step (forward, MSE loss, backward,
Adam) of lorae's networks (SPEC.md), on a fixed random batch, on the CPU.

Same model and loop as ../shared/reference/torch_step.py for the MNIST layout, plus the shapes
layout (all-convolutional, d = 32) so that every configuration `lorae bench` times has a peer.

Usage: python crates/lorae/peers/torch_step.py [--layout mnist|shapes] [--model irmae|lorae|ae] [--batch 32]
                                  [--steps 40] [--warmup 5] [--threads 2] [--layers 8] [--lam 1e-3]
Prints a human line, then one JSON line: {"torch": version, "median_ms": .., "threads": ..,
"steps": .., "times_ms": [every timed step]}.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--layout", default="mnist", choices=["mnist", "shapes"])
p.add_argument("--model", default="irmae", choices=["ae", "irmae", "lorae"])
p.add_argument("--batch", type=int, default=32)
p.add_argument("--steps", type=int, default=40)
p.add_argument("--warmup", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--layers", type=int, default=8)
p.add_argument("--lam", type=float, default=1e-3)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)


def conv(i, o):
    return nn.Conv2d(i, o, 4, 2, 1)


def convt(i, o):
    return nn.ConvTranspose2d(i, o, 4, 2, 1)


class Mnist(nn.Module):
    """1×32×32, d = 128: conv encoder + FC, FC + deconv decoder, 1×1 output conv, Tanh."""

    def __init__(s, n_lin, d=128):
        super().__init__()
        s.enc = nn.Sequential(conv(1, 32), nn.ReLU(), conv(32, 64), nn.ReLU(), conv(64, 128), nn.ReLU(),
                              conv(128, 256), nn.ReLU(), nn.Flatten(), nn.Linear(1024, d))
        s.lin = nn.Sequential(*[nn.Linear(d, d, bias=False) for _ in range(n_lin)])
        s.fc = nn.Linear(d, 8 * 8 * 128)
        # ReLU after the FC layer, as the official MNIST_Decoder (and lorae's MNIST decoder).
        s.dec = nn.Sequential(nn.ReLU(), convt(128, 64), nn.ReLU(), convt(64, 32), nn.ReLU(), nn.Conv2d(32, 1, 1), nn.Tanh())
        s.shape = (1, 32, 32)

    def forward(s, x):
        return s.dec(s.fc(s.lin(s.enc(x))).view(-1, 128, 8, 8))


class Shapes(nn.Module):
    """3×32×32, d = 32: all-convolutional encoder to 1×1, transposed convolutions back, Tanh."""

    def __init__(s, n_lin, d=32):
        super().__init__()
        s.enc = nn.Sequential(conv(3, 32), nn.ReLU(), conv(32, 64), nn.ReLU(), conv(64, 128), nn.ReLU(),
                              conv(128, 256), nn.ReLU(), conv(256, d), nn.Flatten())
        s.lin = nn.Sequential(*[nn.Linear(d, d, bias=False) for _ in range(n_lin)])
        s.dec = nn.Sequential(convt(d, 256), nn.ReLU(), convt(256, 128), nn.ReLU(), convt(128, 64), nn.ReLU(),
                              convt(64, 32), nn.ReLU(), convt(32, 3), nn.Tanh())
        s.d = d
        s.shape = (3, 32, 32)

    def forward(s, x):
        return s.dec(s.lin(s.enc(x)).view(-1, s.d, 1, 1))


n_lin = {"ae": 0, "irmae": a.layers, "lorae": 1}[a.model]
m = (Mnist if a.layout == "mnist" else Shapes)(n_lin)
opt = torch.optim.Adam(m.parameters(), lr=1e-4)
x = torch.rand(a.batch, *m.shape) * 2 - 1
ts = []
for i in range(a.warmup + a.steps):
    t0 = time.perf_counter()
    y = m(x)
    loss = ((y - x) ** 2).mean()
    if a.model == "lorae":
        loss = loss + a.lam * torch.linalg.matrix_norm(m.lin[0].weight, ord="nuc")
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    loss.item()
    if i >= a.warmup:
        ts.append(time.perf_counter() - t0)
median = statistics.median(ts) * 1e3
print(f"torch {torch.__version__} {a.layout} {a.model} batch={a.batch} threads={torch.get_num_threads()}: "
      f"median {median:.1f} ms/step over {len(ts)} steps (min {min(ts)*1e3:.1f}, max {max(ts)*1e3:.1f})")
print(json.dumps({"torch": torch.__version__, "median_ms": median, "threads": torch.get_num_threads(),
                  "steps": len(ts), "times_ms": [t * 1e3 for t in ts]}))
