"""Writes the small torch checkpoints that crates/lorae/tests/torch_archive.rs reads.

  python tools/torch_fixture.py crates/lorae/tests/fixtures/torch

state_dict.pt (and legacy.pt, the same in the pre-1.6 non-zip format): torch.save of an OrderedDict state dict (float32 conv weight, a transposed
(non-contiguous) view, float64, float16, bfloat16 and int64 tensors, and two tensors sharing one
storage at different offsets). scripted.pt: torch.jit.save of a scripted module with a submodule,
a parameter and a buffer. expected.json lists every tensor's name, shape and values.
"""
import json
import os
import sys
from collections import OrderedDict

import torch


class Inner(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 3, bias=True)
        self.register_buffer("scale", torch.tensor([0.5, -1.5, 2.0]))

    def forward(self, x):
        return self.conv(x) * self.scale[None, :, None, None]


class Outer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Inner()
        self.gain = torch.nn.Parameter(torch.tensor([3.25]))

    def forward(self, x):
        return self.inner(x) * self.gain


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8.0
    shared = torch.arange(10, dtype=torch.float32) - 4.5
    sd = OrderedDict()
    sd["layer.conv.weight"] = torch.randn(2, 3, 3, 3)
    sd["layer.bn.running_var"] = torch.rand(2, dtype=torch.float64) + 0.5
    sd["layer.bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
    sd["transposed"] = base.t()  # shape [6, 4], strides (1, 6)
    sd["half"] = torch.tensor([1.0, -2.5, 0.000061035156, 65504.0], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -3.0, 0.15625], dtype=torch.bfloat16)
    sd["shared.a"] = shared[2:5]
    sd["shared.b"] = shared[6:]
    torch.save(sd, os.path.join(out, "state_dict.pt"))
    torch.save(sd, os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)

    module = torch.jit.script(Outer().eval())
    torch.jit.save(module, os.path.join(out, "scripted.pt"))

    expected = {"state_dict.pt": {}, "legacy.pt": {}, "scripted.pt": {}}
    for k, v in sd.items():
        entry = {"shape": list(v.shape), "values": v.double().flatten().tolist()}
        expected["state_dict.pt"][k] = expected["legacy.pt"][k] = entry
    for k, v in list(module.named_parameters()) + list(module.named_buffers()):
        expected["scripted.pt"][k] = {"shape": list(v.shape), "values": v.double().flatten().tolist()}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "crates/lorae/tests/fixtures/torch")
