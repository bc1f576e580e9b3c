#!/usr/bin/env python3
"""The Python package's benchmark (issue 35; not a test): in one run, at one thread count,

1. FID of 1 000 MNIST training images against 1 000 test images: `lorae.fid` on the numpy arrays
   and on the same images written as PNG folders, against pytorch-fid's
   `calculate_fid_given_paths` on those folders (its model load and PNG reading included, as
   lorae's are);
2. encoding the 10 000 MNIST test images of a run: `lorae.Run(RUN).spectrum()` (load the split,
   encode, spectrum) against the CLI's `lorae spectrum RUN` doing the same, and `Run.encode` of
   the array alone.

  RAYON_NUM_THREADS=2 python tools/bench_python.py --run RUN --lorae-bin target/release/lorae \
      --weights ~/.cache/lorae/data/fid-weights/default_1.pt --threads 2

Needs a Python with the `lorae` package, pytorch-fid and Pillow (the reference venv, with
`pip install ./crates/lorae-py`). pytorch-fid loads its weights from torch's hub cache; when they
are not there (no download here), the script converts lorae's `default_1.pt` to pytorch-fid's names
with the bench peer's table (crates/lorae/peers/fid_features.py) and puts them there.
Prints one JSON object.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="an MNIST run directory (test split: 10 000 images)")
    p.add_argument("--lorae-bin", required=True)
    p.add_argument("--weights", required=True, help="lorae's FID weights (default_1.pt or the .pth)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("-n", type=int, default=1000)
    a = p.parse_args()
    if os.environ.get("RAYON_NUM_THREADS") != str(a.threads):
        sys.exit(f"set RAYON_NUM_THREADS={a.threads} before starting Python (lorae's thread pool reads it once)")
    import numpy as np
    import torch
    from PIL import Image
    from pytorch_fid.fid_score import calculate_fid_given_paths

    import lorae

    torch.set_num_threads(a.threads)
    hub = Path(torch.hub.get_dir()) / "checkpoints" / "pt_inception-2015-12-05-6726825d.pth"
    if not hub.exists():
        peer = Path(__file__).parents[1] / "crates" / "lorae" / "peers" / "fid_features.py"
        spec = importlib.util.spec_from_file_location("fid_features", peer)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        hub.parent.mkdir(parents=True, exist_ok=True)
        torch.save(module.converted_state_dict(a.weights), hub)

    train, _ = lorae.data("mnist", "train", limit=a.n)
    test, _ = lorae.data("mnist", "test", limit=a.n)
    out = {"threads": a.threads, "n": a.n, "cpu_flags": sorted(set(
        f for f in open("/proc/cpuinfo").read().split() if f in ("avx2", "avx512f")))}
    with tempfile.TemporaryDirectory() as tmp:
        dirs = []
        for name, images in (("train", train), ("test", test)):
            d = Path(tmp) / name
            d.mkdir()
            for i, image in enumerate(images):
                Image.fromarray(image).convert("RGB").save(d / f"{i:05d}.png")
            dirs.append(str(d))
        t = time.time()
        out["lorae_fid_arrays"] = lorae.fid(train, test, weights=a.weights)
        out["lorae_arrays_s"] = time.time() - t
        t = time.time()
        out["lorae_fid_pngs"] = lorae.fid(dirs[0], dirs[1], weights=a.weights)
        out["lorae_pngs_s"] = time.time() - t
        t = time.time()
        out["pytorch_fid"] = float(calculate_fid_given_paths(dirs, 50, "cpu", 2048, num_workers=0))
        out["pytorch_fid_s"] = time.time() - t
    out["fid_ratio_pngs"] = out["lorae_pngs_s"] / out["pytorch_fid_s"]

    run = lorae.Run(a.run)
    t = time.time()
    subprocess.run([a.lorae_bin, "--threads", str(a.threads), "spectrum", a.run], check=True, capture_output=True)
    out["cli_spectrum_s"] = time.time() - t
    t = time.time()
    run.spectrum()
    out["python_spectrum_s"] = time.time() - t
    out["spectrum_ratio"] = out["python_spectrum_s"] / out["cli_spectrum_s"]
    images, _ = lorae.data("mnist", "test")
    t = time.time()
    codes = run.encode(images)
    out["python_encode_s"] = time.time() - t
    out["encoded"] = list(codes.shape)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
