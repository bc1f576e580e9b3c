#!/usr/bin/env python3
"""Train an official code's `model.AE` the way its `train.py` does, resumably, for parity runs.

The model is the unmodified `model.py` of a checkout of facebookresearch/irmae (AE, IRMAE, VAE) or
tirthajit/LoRAE_WACV24 (LoRAE), imported from --repo. The loop is `train.py`'s: torch.manual_seed(0),
`model.AE(args)`, Adam(lr), the training set in file order (DataLoader without shuffle), per batch
`zero_grad; loss = net(x) (+ λ‖mlp.hidden[0]‖_* for LoRAE); backward; step`, then the state dict
saved and the validation loss averaged over batches. What differs is bookkeeping only:
  - num_workers=0 instead of 32 (the order and the values are the same; 32 workers on 2 cores are not);
  - after each epoch the net and the optimizer are saved to OUT/resume.pt (atomically), so a killed
    run continues where it stopped with the same numbers;
  - each epoch appends one JSON line to OUT/log.jsonl (training loss, validation loss, seconds).
OUT/model.pt is `torch.save(net.state_dict())`, the file `lorae import` reads.

  tools/official_train.py --repo /path/to/irmae --data /path/with/MNIST/raw --out DIR -n 128 -l 8 \
      --epochs 50 --lr 1e-4 --batch-size 32 --dataset mnist
  (LoRAE: --repo /path/to/LoRAE_WACV24 -l 1 --nuc-lambda 0.001)

MNIST is read by torchvision from DATA/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte
(`lorae data fetch mnist` puts those four files in its cache: link them there).
"""
import argparse
import json
import os
import sys
import time
import types

import torch
from torchvision import datasets, transforms


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repo", required=True, help="checkout of the official code (holds model.py)")
    p.add_argument("--data", required=True, help="folder holding MNIST/raw/")
    p.add_argument("--out", required=True)
    p.add_argument("-n", type=int, default=128)
    p.add_argument("-l", type=int, default=0)
    p.add_argument("--dataset", default="mnist", choices=["mnist"])
    p.add_argument("--vae", action="store_true")
    p.add_argument("--beta", type=float, default=0.1)
    p.add_argument("--nuc-lambda", type=float, default=None,
                   help="LoRAE's λ (the value, not train.py's index into its list)")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--perturb-ulp", action="store_true",
                   help="after the seeded init, move every weight one ulp up (torch.nextafter): the "
                        "control run that shows how far the official code drifts from itself when "
                        "its floats differ in the last bit, as another summation order makes them")
    return p.parse_args()


def load_official(repo):
    sys.path.insert(0, os.path.abspath(repo))
    import model  # noqa: E402  (the official model.py)
    return model


def mnist(root, train):
    return datasets.MNIST(root, train=train, download=False,
                          transform=transforms.Compose([transforms.Resize([32, 32]), transforms.ToTensor()]))


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    a = parse()
    if a.threads:
        torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    model = load_official(a.repo)
    args = types.SimpleNamespace(n=a.n, l=a.l, dataset=a.dataset, vae=a.vae, beta=a.beta)
    torch.manual_seed(0)
    net = model.AE(args)
    if a.perturb_ulp:
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.nextafter(p, torch.full_like(p, float("inf"))))
    opt = torch.optim.Adam(net.parameters(), a.lr)
    first = 0
    resume = os.path.join(a.out, "resume.pt")
    if os.path.exists(resume):
        state = torch.load(resume, map_location="cpu")
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        first = state["epoch"] + 1
        print(f"resuming after epoch {state['epoch']}", flush=True)
    train = torch.utils.data.DataLoader(mnist(a.data, True), batch_size=a.batch_size, num_workers=0)
    valid = torch.utils.data.DataLoader(mnist(a.data, False), batch_size=a.batch_size, num_workers=0)
    for e in range(first, a.epochs):
        start = time.time()
        total = 0.0
        net.train()
        for x, _ in train:
            opt.zero_grad()
            loss = net(x)
            if a.nuc_lambda is not None:
                loss = loss + a.nuc_lambda * torch.linalg.norm(net.mlp.hidden[0].weight, ord="nuc")
            total += loss.item()
            loss.backward()
            opt.step()
        train_loss = total / len(train)
        save_atomic(net.state_dict(), os.path.join(a.out, "model.pt"))
        net.eval()
        valid_loss = 0.0
        with torch.no_grad():
            for x, _ in valid:
                valid_loss += net(x).item()
        valid_loss /= len(valid)
        save_atomic({"net": net.state_dict(), "opt": opt.state_dict(), "epoch": e}, resume)
        line = {"epoch": e + 1, "train_loss": train_loss, "valid_loss": valid_loss,
                "seconds": round(time.time() - start, 1)}
        with open(os.path.join(a.out, "log.jsonl"), "a") as f:
            f.write(json.dumps(line) + "\n")
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
