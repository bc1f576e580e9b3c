"""The Python package against the CLI: the same numbers from the same code, bad arrays refused
with ValueError, and Ctrl-C leaving a run that resumes bit-identically. Run by scripts/test.sh
(which builds the `lorae` binary first and names it in LORAE_BIN); needs the FID weights
(`lorae data fetch fid-weights`, which test.sh fetches)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import lorae

BIN = os.environ.get("LORAE_BIN") or str(
    Path(os.environ.get("CARGO_TARGET_DIR", Path(__file__).parents[3] / "target")) / "release" / "lorae"
)
TINY = dict(epochs=1, train_size=64, test_size=32, batch_size=16, latent_dim=8, verbose=False)


def cli(*args):
    done = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def write_pngs(images, folder):
    from PIL import Image  # noqa: PLC0415  (Pillow: pip install pillow)

    folder.mkdir()
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{i:04d}.png")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return lorae.train("irmae", "shapes", tmp_path_factory.mktemp("runs") / "irmae", **TINY)


def test_fid_of_arrays_equals_the_clis_on_the_same_images_as_pngs(tmp_path):
    a, _ = lorae.data("shapes", "train", limit=12)
    b, _ = lorae.data("shapes", "test", limit=12)
    ours = lorae.fid(a, b)
    write_pngs(a, tmp_path / "a")
    write_pngs(b, tmp_path / "b")
    theirs = json.loads(cli("fid", tmp_path / "a", tmp_path / "b", "--json"))["fid"]
    assert abs(ours - theirs) <= 1e-9 * max(1.0, abs(theirs)), (ours, theirs)
    # Floats in [0, 1] are the same images quantised back.
    assert lorae.fid(a / 255.0, b.astype(np.float32) / 255.0) == pytest.approx(ours, abs=1e-9)
    # Statistics saved as a pytorch-fid .npz score the same.
    mu, sigma = lorae.fid_stats(b, out=tmp_path / "b.npz")
    assert mu.shape == (2048,) and sigma.shape == (2048, 2048)
    assert lorae.fid(a, str(tmp_path / "b.npz")) == pytest.approx(ours, rel=1e-6)


def test_encode_gives_the_codes_the_clis_spectrum_uses(run):
    images, _ = lorae.data("shapes", "test", limit=run.config["data"]["test_size"])
    codes = run.encode(images).astype(np.float64)
    assert codes.shape == (32, 8) and codes.dtype == np.float64
    s = np.linalg.svd(np.cov(codes, rowvar=False), compute_uv=False)
    spectrum = json.loads(cli("spectrum", run.path, "--json"))["singular_values"]
    np.testing.assert_allclose(s / s[0], spectrum, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(run.spectrum(), spectrum, rtol=1e-9, atol=1e-12)
    assert run.effective_rank(1e-2) == sum(v > 1e-2 for v in spectrum)


def test_train_then_run_round_trips(run, tmp_path):
    again = lorae.Run(run.path)
    assert again.config == json.loads((Path(run.path) / "config.json").read_text())
    lines = (Path(run.path) / "metrics.jsonl").read_text().splitlines()
    assert again.metrics == [json.loads(line) for line in lines]
    images, _ = lorae.data("shapes", "test", limit=4)
    assert run.reconstruct(images).shape == images.shape
    assert run.decode(run.encode(images)).shape == images.shape
    assert run.sample(3, "gaussian").shape == (3, 32, 32, 3)
    seen = []
    more = lorae.train(
        "irmae", "shapes", run.path, resume=True, callback=seen.append, **{**TINY, "epochs": 2}
    )
    assert [m["epoch"] for m in seen] == [2] and len(more.metrics) == 2


@pytest.mark.parametrize(
    "bad, words",
    [
        (np.zeros((2, 32, 32, 3), dtype=np.int32), "dtype int32"),
        (np.zeros((32, 32, 3), dtype=np.uint8)[0], "shape"),
        (np.full((2, 32, 32, 3), np.nan), "NaN"),
        (np.full((2, 32, 32, 3), 2.0), "[0, 1]"),
        (np.zeros((0, 32, 32, 3), dtype=np.uint8), "no image"),
        (np.zeros((2, 28, 28), dtype=np.uint8), "3×32×32"),
        ([1, 2, 3], "numpy array"),
    ],
)
def test_bad_arrays_raise_value_error_naming_the_problem(run, bad, words):
    with pytest.raises(ValueError, match=None) as caught:
        run.encode(bad)
    assert isinstance(caught.value, lorae.Error)
    assert words in str(caught.value), str(caught.value)


def test_rrae_trains_at_its_rank_and_refuses_a_bad_one(tmp_path):
    run = lorae.train("rrae", "shapes", tmp_path / "rrae", rank=2, **TINY)
    assert run.config["model"]["rank"] == 2
    assert run.metrics[-1]["truncation_rank"] == 2
    assert run.effective_rank() <= 2
    with pytest.raises(lorae.InvalidValueError, match="rank"):
        lorae.train("rrae", "shapes", tmp_path / "bad", rank=0, **TINY)


def test_bad_settings_and_paths_raise_lorae_errors(tmp_path):
    with pytest.raises(lorae.InvalidValueError, match="unknown setting `epochz`"):
        lorae.train("irmae", "shapes", tmp_path / "x", epochz=3)
    with pytest.raises(lorae.InvalidValueError, match="lr"):
        lorae.train("irmae", "shapes", tmp_path / "y", lr=-1.0, verbose=False)
    with pytest.raises(lorae.InvalidValueError, match="unknown model"):
        lorae.train("irmea", "shapes", tmp_path / "z")
    with pytest.raises(FileNotFoundError):
        lorae.Run(tmp_path / "absent")
    with pytest.raises(lorae.InvalidValueError, match="latent dimension 8"):
        lorae.Run(lorae.train("ae", "shapes", tmp_path / "ae", **TINY).path).decode(np.zeros((2, 3)))


# The child restores Python's Ctrl-C handler: a shell starting a job in the background (`.ci/run &`)
# leaves SIGINT ignored, Python then installs none, and the signal was lost.
CHILD = """
import signal, sys, lorae
signal.signal(signal.SIGINT, signal.default_int_handler)
lorae.train("ae", "shapes", sys.argv[1], resume=len(sys.argv) > 2, epochs=3, train_size=2400,
            test_size=16, batch_size=8, latent_dim=8, verbose=False,
            callback=lambda m: print("epoch", m["epoch"], flush=True))
"""


def test_ctrl_c_stops_at_a_checkpoint_and_the_run_resumes_bit_identically(tmp_path):
    stopped, whole = tmp_path / "stopped", tmp_path / "whole"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(stopped)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "epoch 1"
    time.sleep(0.05)  # inside epoch 2 (300 steps): the callback runs after epoch 1's checkpoint
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=300)
    assert child.returncode != 0 and "KeyboardInterrupt" in err, err
    state = json.loads((stopped / (stopped / "latest").read_text().strip() / "state.json").read_text())
    assert state["epoch"] == 1 and state["partial"]["steps"] > 0, state
    subprocess.run([sys.executable, "-c", CHILD, str(stopped), "resume"], check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", CHILD, str(whole)], check=True, capture_output=True)
    assert (stopped / "model.safetensors").read_bytes() == (whole / "model.safetensors").read_bytes()
    assert len(lorae.Run(stopped).metrics) == 3
