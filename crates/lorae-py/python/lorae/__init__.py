"""lorae: low-rank latent autoencoders (IRMAE, LoRAE) and their baselines, and FID without PyTorch.

The Rust library `lorae` from Python, numpy in and out:

    import lorae
    images, labels = lorae.data("mnist", "train")            # uint8, N×32×32
    run = lorae.train("irmae", "mnist", "runs/irmae", epochs=2, train_size=5000, verbose=False)
    codes = run.encode(images[:1000])                         # float32, N×128
    samples = run.sample(1000, "gmm", k=10)                   # uint8, N×32×32
    print(lorae.fid(samples, "dataset:mnist:test", limit=1000))

Images are numpy arrays (uint8 N×H×W or N×H×W×C, or floats in [0, 1]), folders of PNG/JPEG
files, or `"dataset:NAME[:split]"`. Every error is a `lorae.Error`, and also the built-in a caller
expects (`ValueError`, `FileNotFoundError`, ...), with lorae's message naming the value and the fix.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional, Sequence, Tuple, Union

import numpy as np


class Error(Exception):
    """Base class of every error lorae raises."""


class InvalidValueError(Error, ValueError):
    """A bad argument or setting: the message names it and what it accepts."""


class BadFileError(Error, ValueError):
    """A file that is not what it should be (a damaged checkpoint, a foreign state dict)."""


class NotFoundError(Error, FileNotFoundError):
    """A file or directory that does not exist."""


class IoError(Error, OSError):
    """Reading or writing failed (a full disk, a permission)."""


class DivergedError(Error, ArithmeticError):
    """Training diverged (non-finite losses or codes); checkpoints written before are kept."""


class NumericalError(Error, ArithmeticError):
    """A numerical method failed (an SVD that did not converge, codes that do not vary)."""


class RunLockedError(Error, RuntimeError):
    """Another process is writing the run directory."""


class UnsupportedError(Error, RuntimeError):
    """What this build or machine cannot do (a device, a download, a peer program)."""


class InternalError(Error, RuntimeError):
    """A lorae bug: please report it."""


from . import _lorae  # noqa: E402  (the classes above must exist when it raises)

__version__: str = _lorae.__version__

Images = Union[np.ndarray, str, "os.PathLike[str]"]


def fid(
    a: Images,
    b: Images,
    *,
    batch_size: int = 50,
    limit: Optional[int] = None,
    weights: Optional[Union[str, "os.PathLike[str]"]] = None,
    data_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
) -> float:
    """Calculates the Fréchet Inception Distance between two sets of images.

    The same computation as pytorch-fid's ``calculate_fid_given_paths`` (its Inception weights, its
    resize and its statistics; the distance agrees to ~4e-7), without PyTorch.

    Params:
    -- a, b       : Each a numpy array of images (uint8 N×H×W or N×H×W×C with C = 1 or 3, or
                    floats in [0, 1], quantised to 8 bits as PNG files would be), a folder of
                    image files, ``"dataset:NAME[:split]"`` (mnist, fashion-mnist, cifar10,
                    celeba, shapes; split train or test, default test), or a pytorch-fid ``.npz``
                    holding ``mu`` and ``sigma``.
    -- batch_size : Images per forward pass of the network.
    -- limit      : Use at most this many images of each set (at least 2).
    -- weights    : The FID Inception weights (pytorch-fid's ``.pth`` or fid-helper's
                    ``default_1.pt``); default: ``lorae data fetch fid-weights``'s cache.
    -- data_dir   : Where a ``dataset:`` set's files are; default: the fetch cache.

    Returns:
    --   : The distance, ``‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½)``.

    Statistics of dataset splits are cached (keyed by every pixel and the weights' bytes).
    """
    return _lorae.fid(a, b, batch_size=batch_size, limit=limit, weights=weights, data_dir=data_dir)


def fid_stats(
    x: Images,
    *,
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
    batch_size: int = 50,
    limit: Optional[int] = None,
    weights: Optional[Union[str, "os.PathLike[str]"]] = None,
    data_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """Calculates the statistics used by the FID of one set of images.

    Params:
    -- x          : Images, as for ``fid`` (an array, a folder or ``"dataset:NAME[:split]"``).
    -- out        : Also save them here as a pytorch-fid ``.npz`` (``mu``, ``sigma``), which
                    ``fid`` and pytorch-fid both read.
    -- batch_size, limit, weights, data_dir : as for ``fid``.

    Returns:
    -- mu    : The mean over the images of the 2048 pool3 features, float64 [2048].
    -- sigma : Their covariance (unbiased, as ``np.cov(rowvar=False)``), float64 [2048, 2048].
    """
    return _lorae.fid_stats(
        x, out=out, batch_size=batch_size, limit=limit, weights=weights, data_dir=data_dir
    )


def data(
    name: str,
    split: str = "train",
    *,
    limit: Optional[int] = None,
    data_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """The images (uint8 N×H×W or N×H×W×3) and labels (uint8 [N], or None) lorae trains on.

    ``name`` is mnist, fashion-mnist, cifar10, celeba, shapes (generated, no download) or folder;
    ``split`` train or test. MNIST and the others come from ``lorae data fetch NAME``'s cache
    unless ``data_dir`` says where their files are. Images are resized as lorae trains on them
    (MNIST to 32×32, by Pillow's bilinear resample bit for bit).
    """
    return _lorae.data(name, split, limit=limit, data_dir=data_dir)


class Run(_lorae.Run):
    """A run directory that ``lorae train`` (or ``lorae.train``, or ``lorae import``) wrote.

    ``run.config`` (dict) and ``run.metrics`` (a dict per finished epoch) read its files;
    ``encode``, ``decode``, ``reconstruct``, ``spectrum``, ``effective_rank`` and ``sample`` use
    its current checkpoint's model on the CPU. A run that is still training can be read.
    """

    def encode(self, images: Images, *, chain: bool = True) -> np.ndarray:
        """Codes of ``images`` (float32 N×d): after IRMAE's chain folded into the encoder (the
        codes ``lorae spectrum`` and the samplers use), or with ``chain=False`` the encoder's own."""
        return super().encode(images, chain=chain)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Images decoded from ``codes`` (float32 N×d), uint8."""
        return super().decode(np.ascontiguousarray(codes, dtype=np.float32))

    def reconstruct(self, images: Images) -> np.ndarray:
        """``images`` through encoder, chain and decoder, uint8."""
        return super().reconstruct(images)

    def spectrum(self, split: str = "test") -> np.ndarray:
        """Singular values of the covariance of a split's codes, divided by the largest, descending."""
        return super().spectrum(split)

    def effective_rank(self, threshold: float = 1e-2, split: str = "test") -> int:
        """How many normalised singular values of a split's codes exceed ``threshold``."""
        return super().effective_rank(threshold, split)

    def sample(
        self,
        n: int,
        sampler: str = "gmm",
        *,
        k: int = 10,
        seed: int = 0,
        fit_on: str = "train",
        fit_limit: Optional[int] = None,
    ) -> np.ndarray:
        """``n`` images (uint8) decoded from a ``sampler`` (gmm, gaussian, prior) fitted to the codes
        of ``fit_on`` (its first ``fit_limit`` images), with ``k`` GMM components and ``seed``."""
        return super().sample(n, sampler, k=k, seed=seed, fit_on=fit_on, fit_limit=fit_limit)


def train(
    model: str = "irmae",
    dataset: str = "shapes",
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
    *,
    resume: bool = False,
    callback: Optional[Callable[[dict], Any]] = None,
    verbose: bool = True,
    device: str = "cpu",
    checkpoint_every: Optional[str] = None,
    **settings: Any,
) -> Run:
    """Trains a model into the run directory ``out`` (``lorae train``) and returns the ``Run``.

    Every setting of ``lorae train`` is a keyword of the same name and default: ``epochs``,
    ``lr``, ``batch_size``, ``layers``, ``latent_dim``, ``lambda_`` (``--lambda``), ``beta``,
    ``train_size``, ``test_size``, ``order``, ``init``, ``data_dir``, ``pixel_range``,
    ``threshold``, ... (an unknown one is an error listing them). ``resume=True`` continues the
    run in ``out`` (``epochs`` then raises its total). ``callback(metrics)`` is called after each
    epoch with its metrics (a dict); ``verbose`` prints one line per epoch on ``sys.stderr``.
    Ctrl-C stops at the next step with a checkpoint there and raises ``KeyboardInterrupt``:
    ``resume=True`` then continues, bit-identical to a run never stopped.
    """
    _lorae.train(
        model,
        dataset,
        out,
        resume=resume,
        callback=callback,
        verbose=verbose,
        device=device,
        checkpoint_every=checkpoint_every,
        **settings,
    )
    return Run(out)


__all__: Sequence[str] = [
    "fid", "fid_stats", "data", "train", "Run", "Error", "InvalidValueError", "BadFileError",
    "NotFoundError", "IoError", "DivergedError", "NumericalError", "RunLockedError",
    "UnsupportedError", "InternalError",
]
