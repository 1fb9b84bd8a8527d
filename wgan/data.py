"""Training data for the GANs: MNIST / Fashion-MNIST from IDX files, and the 2-D toy sets.

Pure NumPy on purpose (no minigrad, no torch): the data layer must stay usable and testable
on its own.  Image files are found in, in order: an explicit ``data_dir``, ``$WGAN_DATA_DIR``,
``~/.cache/wgan/<dataset>``, and for Fashion-MNIST Debian's ``/usr/share/datasets/fashion-mnist``
(package ``dataset-fashion-mnist``).  Failing that they are downloaded into the cache (MD5
checked, atomic rename) unless ``download=False``.

The training streams, :class:`Batches` (shuffled images) and :class:`ToyStream` (the 2-D
samplers), yield ``(x, labels or None)`` forever and save their position with ``state_dict``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from minigrad.backends import array_module

DATASETS = ("mnist", "fashion-mnist", "8gaussians", "25gaussians", "swissroll")
IMAGE_DATASETS = ("mnist", "fashion-mnist")
TOY_DATASETS = ("8gaussians", "25gaussians", "swissroll")
SPLITS = ("train", "test")
ENV_VAR = "WGAN_DATA_DIR"
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
NUM_CLASSES = 10

# (images, labels) file stems per split; each may exist as "<stem>.gz" or uncompressed "<stem>".
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# Mirrors are tried in order; each URL is the mirror prefix + "<stem>.gz".
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}

# Canonical checksums of the published .gz files.  They only gate downloads: local files
# (e.g. Debian's re-compressed ones, or a truncated training set) are validated by header.
MD5: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

# System-wide installs (Debian's dataset-fashion-mnist uses the standard .gz names here).
SYSTEM_DIRS: dict[str, tuple[Path, ...]] = {
    "fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),),
}

DOWNLOAD_TIMEOUT_S = 60.0
_urlopen = urllib.request.urlopen  # module-level so tests can substitute the opener


class DatasetNotFoundError(FileNotFoundError):
    """The dataset files were found nowhere and could not be downloaded."""


class IdxFormatError(ValueError):
    """An IDX file (or its gzip wrapper) is malformed, truncated or inconsistent."""


class ChecksumError(OSError):
    """A downloaded file does not match its canonical MD5."""


def _check_name(name: str, allowed: tuple[str, ...], what: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid datasets are: {', '.join(DATASETS)}")
    if name not in allowed:
        raise ValueError(f"{name!r} is not {what}; use one of: {', '.join(allowed)}")


# ----------------------------------------------------------------------------- IDX reading

def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """Read and validate one uint8 IDX file, gzip-compressed or raw.

    Compression is detected from the content, not the name.  The header's magic number
    (``magic`` if given, e.g. 2051 images / 2049 labels), dtype code (must be 0x08, uint8),
    dimensions and the exact payload size are all checked, so a truncated, padded or corrupt
    file raises :class:`IdxFormatError` naming the file instead of yielding short data.

    Returns a writable uint8 array of the header's shape, e.g. (N, 28, 28) or (N,).
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise IdxFormatError(f"{path}: corrupt or truncated gzip data ({e})") from e
    if len(raw) < 4:
        raise IdxFormatError(f"{path}: file too short for an IDX header ({len(raw)} bytes)")
    file_magic = int.from_bytes(raw[:4], "big")
    if magic is not None and file_magic != magic:
        raise IdxFormatError(f"{path}: bad magic number {file_magic}, expected {magic}")
    if raw[:2] != b"\0\0" or raw[2] != 0x08:
        raise IdxFormatError(f"{path}: not a uint8 IDX file (magic number {file_magic})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxFormatError(f"{path}: truncated header: expected {header} bytes, got {len(raw)}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected, actual = int(np.prod(shape, dtype=np.int64)), len(raw) - header
    if actual < expected:
        raise IdxFormatError(f"{path}: truncated: header shape {shape} needs {expected} data "
                             f"bytes, file has {actual}")
    if actual > expected:
        raise IdxFormatError(f"{path}: {actual - expected} trailing bytes: header shape {shape} "
                             f"needs {expected} data bytes, file has {actual}")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape).copy()


# ----------------------------------------------------------------------------- locating files

def _find(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    return None


def cache_dir(name: str) -> Path:
    """Download cache for an image dataset: ``~/.cache/wgan/<name>``."""
    return Path.home() / ".cache" / "wgan" / name


def _search_dirs(name: str, data_dir: str | os.PathLike | None,
                 only_data_dir: bool = False) -> list[tuple[Path, str]]:
    """(directory, why it is searched) in priority order."""
    dirs: list[tuple[Path, str]] = []
    # A root holding one subfolder per dataset is accepted as well as the folder itself;
    # the subfolder goes first so a shared root cannot serve MNIST files as Fashion-MNIST.
    for root, why in ((data_dir, "data_dir argument"), (os.environ.get(ENV_VAR), f"${ENV_VAR}")):
        if root:
            root = Path(root).expanduser()
            dirs += [(root / name, why), (root, why)]
        if only_data_dir:
            return dirs
    dirs.append((cache_dir(name), "download cache"))
    dirs += [(d, "system install") for d in SYSTEM_DIRS.get(name, ())]
    return dirs


def _download(url: str, dest: Path, md5: str) -> None:
    """Fetch ``url`` to ``dest`` via a temp file in the same directory (so os.replace is atomic),
    fsynced, and only renamed into place once the MD5 matches; never leaves a partial file.

    Kept instead of a download library such as ``pooch``: these standard-library lines already
    check the hash, cache, rename atomically and (in :func:`_download_split`) try the mirrors in
    turn; a library would add a dependency and change none of that."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, _urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp:
            while chunk := resp.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != md5:
            raise ChecksumError(f"MD5 mismatch: got {digest.hexdigest()}, expected {md5}")
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable; not possible on every platform/filesystem
        dir_fd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _download_split(name: str, split: str) -> tuple[Path, Path] | list[str]:
    """Download the split's two files into the cache; returns their paths, or the failures."""
    target, errors, paths = cache_dir(name), [], []
    for stem in SPLIT_FILES[split]:
        dest = target / f"{stem}.gz"
        if dest.is_file():  # e.g. the other file of the pair was fetched by an earlier call
            paths.append(dest)
            continue
        for mirror in MIRRORS[name]:
            url = mirror + dest.name
            try:
                _download(url, dest, MD5[name][dest.name])
                paths.append(dest)
                break
            except (OSError, ValueError) as e:  # URLError, HTTP errors, timeouts are OSErrors
                errors.append(f"{url}: {e}")
        else:
            return errors
    return paths[0], paths[1]


def find_files(name: str, split: str = "train", data_dir: str | os.PathLike | None = None,
               download: bool = True, only_data_dir: bool = False) -> tuple[Path, Path]:
    """Locate (images, labels) paths for an image dataset split, downloading if needed.

    ``only_data_dir`` (the CLIs' ``--data-dir``): ``data_dir`` must exist and hold the files;
    nothing else is searched and nothing downloaded, so an explicit choice never silently
    turns into the cache or a download.  Raises :class:`DatasetNotFoundError` listing every
    place searched and how to supply the files.
    """
    _check_name(name, IMAGE_DATASETS, "an image dataset")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits are: {', '.join(SPLITS)}")
    img_stem, lbl_stem = SPLIT_FILES[split]
    only_data_dir = only_data_dir and data_dir is not None
    if only_data_dir and not Path(data_dir).expanduser().is_dir():
        raise DatasetNotFoundError(f"--data-dir {data_dir} does not exist (or is not a directory)")
    searched = []
    for directory, why in _search_dirs(name, data_dir, only_data_dir):
        images, labels = _find(directory, img_stem), _find(directory, lbl_stem)
        if images and labels:
            return images, labels
        searched.append(f"  - {directory}  ({why}{'' if directory.is_dir() else ', missing'})")
    if only_data_dir:
        raise DatasetNotFoundError(
            f"--data-dir {data_dir} has no {name} {split} split: looked for {img_stem}[.gz] and "
            f"{lbl_stem}[.gz] in:\n" + "\n".join(searched))
    if not os.environ.get(ENV_VAR):
        searched.append(f"  - ${ENV_VAR} is not set")
    if download:
        result = _download_split(name, split)
        if isinstance(result, tuple):
            return result
        attempt = "download into the cache failed:\n" + "\n".join(f"  - {e}" for e in result)
    else:
        attempt = "download disabled (download=False)"
    hint = (f"Put {img_stem}[.gz] and {lbl_stem}[.gz] in a directory and pass it with --data-dir "
            f"(data_dir=...) or set {ENV_VAR}, or copy them into {cache_dir(name)}.")
    if name == "fashion-mnist":
        hint += (" On Debian/Ubuntu, `apt-get install dataset-fashion-mnist` installs them to "
                 f"{SYSTEM_DIRS['fashion-mnist'][0]}.")
    raise DatasetNotFoundError(
        f"{name} {split} split not found. Looked for {img_stem}[.gz] and {lbl_stem}[.gz] in:\n"
        + "\n".join(searched) + f"\n{attempt}\n{hint}")


def load_images(name: str, split: str = "train", data_dir: str | os.PathLike | None = None,
                download: bool = True, only_data_dir: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST or Fashion-MNIST (``only_data_dir``: see :func:`find_files`).

    Returns ``(images, labels)``: images uint8 (N, 28, 28) with values 0..255, labels int64 (N,)
    in 0..9.  Any N is accepted; each file is fully validated (see :func:`read_idx`) and the
    pair must agree on N.
    """
    img_path, lbl_path = find_files(name, split, data_dir, download, only_data_dir)
    images = read_idx(img_path, IMAGES_MAGIC)
    labels = read_idx(lbl_path, LABELS_MAGIC)
    if images.shape[1:] != (28, 28):
        raise IdxFormatError(f"{img_path}: expected 28x28 images, header says {images.shape[1:]}")
    if len(images) != len(labels):
        raise IdxFormatError(f"image/label count mismatch: {img_path} has {len(images)} images, "
                             f"{lbl_path} has {len(labels)} labels")
    if labels.size and labels.max() >= NUM_CLASSES:
        raise IdxFormatError(f"{lbl_path}: label {labels.max()} out of range 0..{NUM_CLASSES - 1}")
    return images, labels.astype(np.int64)


def scale_images(images: np.ndarray, value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """Map uint8 pixels 0..255 linearly onto ``value_range`` = (lo, hi), lo < hi.

    Use (-1, 1) for tanh generators and (0, 1) for sigmoid ones.  Input uint8 (N, 28, 28) or
    (N, 1, 28, 28); output float32 (N, 1, 28, 28), with 0 -> lo and 255 -> hi exactly.
    """
    lo, hi = (float(v) for v in value_range)
    if not lo < hi:
        raise ValueError(f"value_range must satisfy lo < hi, got {value_range}")
    if images.dtype != np.uint8:
        raise TypeError(f"expected uint8 images (0..255), got {images.dtype}")
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"expected shape (N, H, W) or (N, 1, H, W), got {images.shape}")
    unit = images.astype(np.float32) / np.float32(255)  # exactly 0 and 1 at the ends
    return (np.float32(lo) + np.float32(hi - lo) * unit).astype(np.float32)


# ----------------------------------------------------------------------------- toy 2-D data

_SQ = 1.0 / np.sqrt(2.0)


@dataclass(frozen=True)
class GaussianMixture:
    """A toy set of gan_toy.py: equal-weight gaussians of std ``std`` around ``centers``
    (K, 2), the points divided by ``divisor`` afterwards."""

    centers: np.ndarray
    std: float
    divisor: float

    def normalised(self) -> tuple[np.ndarray, float]:
        """(centres, std) of the points as sampled, after the divisor."""
        return self.centers / self.divisor, self.std / self.divisor


GAUSSIAN_MIXTURES = {
    "8gaussians": GaussianMixture(2.0 * np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (_SQ, _SQ),
                                                  (_SQ, -_SQ), (-_SQ, _SQ), (-_SQ, -_SQ)]),
                                  std=0.02, divisor=1.414),
    "25gaussians": GaussianMixture(np.array([(x, y) for x in range(-4, 5, 2)
                                             for y in range(-4, 5, 2)], dtype=np.float64),
                                   std=0.05, divisor=2.828),
}


def toy_batch(name: str, batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """Sample a float32 (batch_size, 2) batch of a toy distribution from the WGAN-GP paper.

    Follows gan_toy.py of gulrajani/improved_wgan_training, including its normalising
    divisors: ``8gaussians`` (radius-2 circle, std 0.02, / 1.414), ``25gaussians`` (5x5 grid
    at -4..4 step 2, std 0.05, / 2.828; sampled i.i.d. rather than from a fixed shuffled pool)
    and ``swissroll`` (sklearn's make_swiss_roll, noise 0.25, columns x and z, / 7.5).
    Deterministic given the state of ``rng``.
    """
    _check_name(name, TOY_DATASETS, "a toy dataset")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if name in GAUSSIAN_MIXTURES:
        mix = GAUSSIAN_MIXTURES[name]
        centers = mix.centers[rng.integers(len(mix.centers), size=batch_size)]
        points = (centers + mix.std * rng.standard_normal((batch_size, 2))) / mix.divisor
    else:
        t = 1.5 * np.pi * (1 + 2 * rng.uniform(size=batch_size))
        xz = np.stack([t * np.cos(t), t * np.sin(t)], axis=1)
        points = (xz + 0.25 * rng.standard_normal((batch_size, 2))) / 7.5
    return points.astype(np.float32)


# ----------------------------------------------------------------------------- minibatches

class Batches:
    """Endless shuffled minibatches of ``(x[idx], labels[idx])``; ``labels`` may be None.

    Each epoch is a fresh permutation; the last incomplete batch of an epoch is dropped.
    ``x`` and ``labels`` may be NumPy or CuPy arrays (then the batches are gathered on the GPU).
    One integer seed is drawn from ``rng`` at construction and each epoch's permutation is
    derived from (seed, epoch), so the stream does not depend on whatever else later draws
    from a shared ``rng``, and :meth:`state_dict` (plain ints and an int64 array, saveable
    with ``np.savez``) restores it bit-exactly.  Batches have shape (batch_size, *x.shape[1:]).
    """

    def __init__(self, x: np.ndarray, labels: np.ndarray | None, batch_size: int,
                 rng: np.random.Generator):
        if labels is not None and len(labels) != len(x):
            raise ValueError(f"x has {len(x)} rows but labels has {len(labels)}")
        if not 1 <= batch_size <= len(x):
            raise ValueError(f"batch_size must be in 1..{len(x)}, got {batch_size}")
        self.x, self.labels, self.batch_size = x, labels, int(batch_size)
        self.seed = int(rng.integers(2**63 - 1))
        self.epoch, self.position = 0, 0
        self.permutation = self._permutation(0)

    @property
    def permutation(self) -> np.ndarray:
        return self._permutation_host

    @permutation.setter
    def permutation(self, perm: np.ndarray) -> None:
        # the epoch's order, also as an array of x's module: x may live on a GPU (uploaded
        # once by the trainer), and then each batch is gathered there, from a slice of this
        # copy, with no host-to-device transfer per batch
        self._permutation_host = perm
        self._order = array_module(self.x).asarray(perm)

    def _permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.x)).astype(np.int64)

    @property
    def batches_per_epoch(self) -> int:
        return len(self.x) // self.batch_size

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        return self

    def __next__(self) -> tuple[np.ndarray, np.ndarray | None]:
        if self.position + self.batch_size > len(self.x):
            self.epoch += 1
            self.position = 0
            self.permutation = self._permutation(self.epoch)
        idx = self._order[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        return self.x[idx], None if self.labels is None else self.labels[idx]

    def state_dict(self) -> dict[str, int | np.ndarray]:
        """Plain ints plus the current int64 permutation (n,); no pickling needed."""
        return {"seed": self.seed, "epoch": self.epoch, "position": self.position,
                "permutation": self.permutation.copy(), "n": len(self.x),
                "batch_size": self.batch_size}

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict` taken on the same data and batch size."""
        n, batch_size = int(state["n"]), int(state["batch_size"])
        if (n, batch_size) != (len(self.x), self.batch_size):
            raise ValueError(f"state is for n={n}, batch_size={batch_size}; this iterator has "
                             f"n={len(self.x)}, batch_size={self.batch_size}")
        perm = np.asarray(state["permutation"], dtype=np.int64)
        if perm.shape != (n,) or not np.array_equal(np.sort(perm), np.arange(n)):
            raise ValueError("state permutation is not a permutation of range(n)")
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])
        self.position = int(state["position"])
        self.permutation = perm


class ToyStream:
    """Endless fresh batches (batch_size, 2) float32 of the toy distribution ``name``, as
    ``(points, None)`` (no labels), like :class:`Batches`; drawn from ``rng``, whose state is
    the stream's :meth:`state_dict`."""

    def __init__(self, name: str, batch_size: int, rng: np.random.Generator):
        _check_name(name, TOY_DATASETS, "a toy dataset")
        self.name, self.batch_size, self.rng = name, int(batch_size), rng

    def __iter__(self) -> Iterator[tuple[np.ndarray, None]]:
        return self

    def __next__(self) -> tuple[np.ndarray, None]:
        return toy_batch(self.name, self.batch_size, self.rng), None

    def state_dict(self) -> dict[str, str | int]:
        """The NumPy bit generator's state as plain strings and ints (its 128-bit integers do
        not fit an int64 array)."""
        state = self.rng.bit_generator.state
        return {"bit_generator": state["bit_generator"], "state": str(state["state"]["state"]),
                "inc": str(state["state"]["inc"]), "has_uint32": int(state["has_uint32"]),
                "uinteger": int(state["uinteger"])}

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict`: the stream continues bit-exactly from there."""
        self.rng.bit_generator.state = {
            "bit_generator": state["bit_generator"],
            "state": {"state": int(state["state"]), "inc": int(state["inc"])},
            "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"])}


def iterate_minibatches(x: np.ndarray, labels: np.ndarray | None, batch_size: int,
                        rng: np.random.Generator) -> Batches:
    """Endless shuffled minibatches over ``x`` (N, ...) and ``labels`` (N,); see :class:`Batches`."""
    return Batches(x, labels, batch_size, rng)
