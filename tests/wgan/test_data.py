"""Tests for wgan.data: IDX validation, file search, offline download path, toy sets, batching."""

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from wgan import data
from wgan.data import (DATASETS, Batches, DatasetNotFoundError, IdxFormatError, iterate_minibatches,
                       load_images, read_idx, scale_images, toy_batch)

from .conftest import MNIST_DIR, needs_mnist

TEST_STEMS = data.SPLIT_FILES["test"]


def idx_bytes(arr: np.ndarray, magic: int | None = None) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    magic = (0x0800 | arr.ndim) if magic is None else magic
    return struct.pack(">I", magic) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def write_split(directory: Path, n: int = 6, n_labels: int | None = None, gz: bool = True,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Write a synthetic test split (n images, n_labels labels) into directory."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n if n_labels is None else n_labels, dtype=np.uint8)
    directory.mkdir(parents=True, exist_ok=True)
    for stem, arr in zip(TEST_STEMS, (images, labels), strict=True):
        blob = idx_bytes(arr)
        if gz:
            (directory / f"{stem}.gz").write_bytes(gzip.compress(blob))
        else:
            (directory / stem).write_bytes(blob)
    return images, labels


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No env var, an empty fake home, no system dirs, no network."""
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data, "SYSTEM_DIRS", {})

    def no_network(url, timeout=None):
        raise OSError(f"network disabled in tests: {url}")
    monkeypatch.setattr(data, "_urlopen", no_network)
    return tmp_path


# ----------------------------------------------------------------------------- real MNIST

@needs_mnist
@pytest.mark.parametrize("split,n", [("train", 22699), ("test", 10000)])
def test_real_mnist(split, n, isolated):
    images, labels = load_images("mnist", split, data_dir=MNIST_DIR, download=False)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.int64
    assert labels.min() == 0 and labels.max() == 9
    assert images.max() == 255 and images.min() == 0


@needs_mnist
def test_real_mnist_uncompressed(isolated):
    raw_dir = isolated / "raw"
    raw_dir.mkdir()
    for stem in TEST_STEMS:
        (raw_dir / stem).write_bytes(gzip.decompress((MNIST_DIR / f"{stem}.gz").read_bytes()))
    images, labels = load_images("mnist", "test", data_dir=raw_dir, download=False)
    ref_images, ref_labels = load_images("mnist", "test", data_dir=MNIST_DIR, download=False)
    np.testing.assert_array_equal(images, ref_images)
    np.testing.assert_array_equal(labels, ref_labels)


# ----------------------------------------------------------------------------- validation

def test_synthetic_roundtrip_gz_and_raw(isolated):
    for gz in (True, False):
        d = isolated / f"gz{gz}"
        images, labels = write_split(d, n=7, gz=gz)
        got_images, got_labels = load_images("mnist", "test", data_dir=d, download=False)
        np.testing.assert_array_equal(got_images, images)
        np.testing.assert_array_equal(got_labels, labels)
        assert got_labels.dtype == np.int64


@pytest.mark.parametrize("gz", [True, False])
def test_truncated_file(isolated, gz):
    d = isolated / "d"
    write_split(d, gz=False)
    path = d / TEST_STEMS[0]
    blob = path.read_bytes()[:-100]
    path.unlink()
    if gz:
        path = d / f"{TEST_STEMS[0]}.gz"
        path.write_bytes(gzip.compress(blob))
    else:
        path.write_bytes(blob)
    with pytest.raises(IdxFormatError, match="truncated") as exc:
        load_images("mnist", "test", data_dir=d, download=False)
    msg = str(exc.value)
    assert path.name in msg and str(6 * 784) in msg and str(6 * 784 - 100) in msg


def test_trailing_bytes(isolated):
    d = isolated / "d"
    write_split(d, gz=False)
    path = d / TEST_STEMS[1]
    path.write_bytes(path.read_bytes() + b"\x00\x01\x02")
    with pytest.raises(IdxFormatError, match="3 trailing bytes") as exc:
        load_images("mnist", "test", data_dir=d, download=False)
    assert path.name in str(exc.value)


def test_wrong_magic(isolated):
    d = isolated / "d"
    write_split(d)
    # A labels file where images belong: a valid IDX file, but the wrong kind.
    path = d / f"{TEST_STEMS[0]}.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(6))))
    with pytest.raises(IdxFormatError, match="magic number 2049, expected 2051") as exc:
        load_images("mnist", "test", data_dir=d, download=False)
    assert path.name in str(exc.value)


def test_non_idx_and_bad_dims(tmp_path):
    bogus = tmp_path / "bogus"
    bogus.write_bytes(b"hello world, not idx")
    with pytest.raises(IdxFormatError, match="bogus"):
        read_idx(bogus)
    short = tmp_path / "short"
    short.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(IdxFormatError, match="short.*truncated header"):
        read_idx(short)
    d = tmp_path / "d"
    write_split(d)
    img = d / f"{TEST_STEMS[0]}.gz"
    img.write_bytes(gzip.compress(idx_bytes(np.zeros((6, 28, 27)))))
    with pytest.raises(IdxFormatError, match="28x28"):
        load_images("mnist", "test", data_dir=d, download=False)


@pytest.mark.parametrize("damage", ["flip", "cut"])
def test_corrupt_gzip(isolated, damage):
    d = isolated / "d"
    write_split(d, n=50)
    path = d / f"{TEST_STEMS[0]}.gz"
    blob = bytearray(path.read_bytes())
    if damage == "flip":
        blob[len(blob) // 2] ^= 0xFF
        blob[-6] ^= 0xFF  # CRC/size trailer too, so corruption cannot go unnoticed
    else:
        blob = blob[: len(blob) // 2]
    path.write_bytes(bytes(blob))
    with pytest.raises(IdxFormatError, match="gzip") as exc:
        load_images("mnist", "test", data_dir=d, download=False)
    assert path.name in str(exc.value)


def test_count_mismatch(isolated):
    d = isolated / "d"
    write_split(d, n=6, n_labels=5)
    with pytest.raises(IdxFormatError, match="mismatch") as exc:
        load_images("mnist", "test", data_dir=d, download=False)
    assert TEST_STEMS[0] in str(exc.value) and TEST_STEMS[1] in str(exc.value)


def test_label_out_of_range(isolated):
    d = isolated / "d"
    write_split(d)
    path = d / f"{TEST_STEMS[1]}.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.full(6, 10))))
    with pytest.raises(IdxFormatError, match="out of range") as exc:
        load_images("mnist", "test", data_dir=d, download=False)
    assert path.name in str(exc.value)


def test_any_count_including_zero(isolated):
    d = isolated / "d"
    write_split(d, n=0)
    images, labels = load_images("mnist", "test", data_dir=d, download=False)
    assert images.shape == (0, 28, 28) and labels.shape == (0,)


# ----------------------------------------------------------------------------- search order

def test_search_order(isolated, monkeypatch):
    explicit, env = isolated / "explicit", isolated / "env"
    cache = isolated / "home/.cache/wgan/mnist"
    for i, d in enumerate((explicit, env, cache)):
        write_split(d, n=3 + i, seed=i)  # the image count tells which directory was used
    monkeypatch.setenv(data.ENV_VAR, str(env))

    def n_loaded(**kw):
        return len(load_images("mnist", "test", download=False, **kw)[0])

    assert n_loaded(data_dir=explicit) == 3
    assert n_loaded() == 4
    monkeypatch.delenv(data.ENV_VAR)
    assert n_loaded() == 5
    # A directory lacking the files is skipped, not fatal.
    assert n_loaded(data_dir=isolated / "empty") == 5


def test_dataset_subfolder_of_root(isolated, monkeypatch):
    write_split(isolated / "root" / "mnist", n=3)
    write_split(isolated / "root" / "fashion-mnist", n=4)
    monkeypatch.setenv(data.ENV_VAR, str(isolated / "root"))
    assert len(load_images("mnist", "test", download=False)[0]) == 3
    assert len(load_images("fashion-mnist", "test", download=False)[0]) == 4


def test_system_dir_for_fashion(isolated, monkeypatch):
    sysdir = isolated / "usr/share/datasets/fashion-mnist"
    write_split(sysdir, n=2)
    monkeypatch.setattr(data, "SYSTEM_DIRS", {"fashion-mnist": (sysdir,)})
    assert len(load_images("fashion-mnist", "test", download=False)[0]) == 2
    with pytest.raises(DatasetNotFoundError):  # only Fashion-MNIST looks there
        load_images("mnist", "test", download=False)


def test_not_found_message_lists_places(isolated, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(isolated / "envdir"))
    sysdir = isolated / "sysdir"
    monkeypatch.setattr(data, "SYSTEM_DIRS", {"fashion-mnist": (sysdir,)})
    with pytest.raises(DatasetNotFoundError) as exc:
        load_images("fashion-mnist", "train", data_dir=isolated / "explicit", download=False)
    assert isinstance(exc.value, FileNotFoundError)
    msg = str(exc.value)
    for place in (isolated / "explicit", isolated / "envdir",
                  isolated / "home/.cache/wgan/fashion-mnist", sysdir):
        assert str(place) in msg
    for hint in ("--data-dir", data.ENV_VAR, "apt-get install dataset-fashion-mnist",
                 "train-images-idx3-ubyte", "download=False"):
        assert hint in msg


def test_unknown_names():
    with pytest.raises(ValueError, match="swissroll"):
        load_images("cifar10", download=False)
    with pytest.raises(ValueError, match="fashion-mnist"):
        toy_batch("moons", 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="image dataset"):
        load_images("8gaussians", download=False)
    with pytest.raises(ValueError, match="toy dataset"):
        toy_batch("mnist", 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="split"):
        load_images("mnist", "valid", download=False)


# ----------------------------------------------------------------------------- download (offline)

@pytest.fixture
def mirror(isolated, monkeypatch):
    """A file:// mirror holding a synthetic test split, with matching checksums; real urlopen."""
    images, labels = write_split(isolated / "mirror", n=4)
    md5 = {f"{s}.gz": hashlib.md5((isolated / "mirror" / f"{s}.gz").read_bytes()).hexdigest()
           for s in TEST_STEMS}
    monkeypatch.setattr(data, "_urlopen", data.urllib.request.urlopen)
    monkeypatch.setattr(data, "MD5", {"mnist": md5})
    monkeypatch.setattr(data, "MIRRORS", {
        "mnist": ((isolated / "dead-mirror").as_uri() + "/", (isolated / "mirror").as_uri() + "/")})
    return images, labels


def test_download_via_file_url(isolated, mirror):
    images, labels = load_images("mnist", "test")  # first mirror fails, second serves
    np.testing.assert_array_equal(images, mirror[0])
    np.testing.assert_array_equal(labels, mirror[1])
    cache = isolated / "home/.cache/wgan/mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{s}.gz" for s in TEST_STEMS)
    # Second load comes from the cache even with the mirrors gone.
    data.MIRRORS["mnist"] = ()
    np.testing.assert_array_equal(load_images("mnist", "test")[0], mirror[0])


def test_download_md5_mismatch_leaves_nothing(isolated, mirror, monkeypatch):
    monkeypatch.setitem(data.MD5["mnist"], f"{TEST_STEMS[0]}.gz", "0" * 32)
    with pytest.raises(DatasetNotFoundError, match="MD5 mismatch") as exc:
        load_images("mnist", "test")
    assert "dead-mirror" in str(exc.value)  # every failed URL is reported
    cache = isolated / "home/.cache/wgan/mnist"
    assert list(cache.iterdir()) == []


def test_download_disabled(isolated, mirror):
    with pytest.raises(DatasetNotFoundError, match="download disabled"):
        load_images("mnist", "test", download=False)


# ----------------------------------------------------------------------------- scaling

def test_scale_images():
    x = np.zeros((2, 28, 28), np.uint8)
    x[0, 0, 0], x[0, 0, 1], x[1, 5, 5] = 255, 51, 255
    for lo, hi in [(-1.0, 1.0), (0.0, 1.0), (2.0, 5.0)]:
        s = scale_images(x, (lo, hi))
        assert s.shape == (2, 1, 28, 28) and s.dtype == np.float32
        assert s.min() == lo and s.max() == hi
        np.testing.assert_allclose(s[0, 0, 0, 1], lo + (hi - lo) * 51 / 255, rtol=1e-6)
    np.testing.assert_array_equal(scale_images(x[:, None], (0, 1)), scale_images(x, (0, 1)))
    with pytest.raises(ValueError):
        scale_images(x, (1.0, -1.0))
    with pytest.raises(TypeError):
        scale_images(x.astype(np.float32), (0, 1))


# ----------------------------------------------------------------------------- toy sets

@pytest.mark.parametrize("name", data.TOY_DATASETS)
def test_toy_shapes_and_determinism(name):
    a = toy_batch(name, 256, np.random.default_rng(1))
    b = toy_batch(name, 256, np.random.default_rng(1))
    c = toy_batch(name, 256, np.random.default_rng(2))
    assert a.shape == (256, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all(np.isfinite(a)) and np.abs(a).max() < 5


def test_8gaussians_clusters():
    pts = toy_batch("8gaussians", 4000, np.random.default_rng(0)).astype(np.float64)
    angles = np.arange(8) * np.pi / 4
    centers = 2.0 / 1.414 * np.stack([np.cos(angles), np.sin(angles)], 1)
    dist = np.linalg.norm(pts[:, None] - centers[None], axis=2)
    assert dist.min(1).max() < 0.1  # std 0.02/1.414 per axis: every point hugs a center
    counts = np.bincount(dist.argmin(1), minlength=8)
    assert counts.min() > 400  # and all 8 modes are populated about equally


def test_25gaussians_grid():
    pts = toy_batch("25gaussians", 5000, np.random.default_rng(0)) * 2.828
    grid = np.round(pts / 2) * 2
    assert np.abs(pts - grid).max() < 0.4
    assert len({tuple(g) for g in grid}) == 25 and np.abs(grid).max() == 4


def test_swissroll_formula():
    pts = toy_batch("swissroll", 5000, np.random.default_rng(0)) * 7.5
    r = np.linalg.norm(pts, axis=1)  # radius of the spiral is t in [1.5pi, 4.5pi], plus noise
    assert r.min() > 1.5 * np.pi - 1.5 and r.max() < 4.5 * np.pi + 1.5


# ----------------------------------------------------------------------------- minibatches

def test_minibatches_epochs():
    x = np.arange(10)[:, None] * np.ones((1, 3))
    labels = np.arange(10)
    it = iterate_minibatches(x, labels, 3, np.random.default_rng(0))
    assert isinstance(it, Batches) and it.batches_per_epoch == 3
    epochs = [np.concatenate([next(it)[1] for _ in range(3)]) for _ in range(3)]
    for e in epochs:
        assert len(set(e.tolist())) == 9  # no repeats within an epoch; 1 row dropped
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled each epoch
    xb, lb = next(it)
    np.testing.assert_array_equal(xb[:, 0], lb)
    assert it.epoch == 3


def test_minibatches_resume_bit_exact(tmp_path):
    x = np.random.default_rng(5).standard_normal((23, 4)).astype(np.float32)
    labels = np.arange(23)
    rng = np.random.default_rng(7)
    it = Batches(x, labels, 5, rng)
    for _ in range(11):  # crosses epoch boundaries (4 batches per epoch)
        next(it)
    np.savez(tmp_path / "state.npz", **it.state_dict())  # plain ints/arrays, no pickle
    expected = [next(it) for _ in range(9)]

    other_rng = np.random.default_rng(123)  # resuming does not depend on the new rng
    resumed = Batches(x, labels, 5, other_rng)
    with np.load(tmp_path / "state.npz", allow_pickle=False) as f:
        resumed.load_state_dict(dict(f))
    for (xa, la), (xb, lb) in zip(expected, (next(resumed) for _ in range(9)), strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(la, lb)


def test_minibatches_independent_of_shared_rng():
    x, rng1, rng2 = np.arange(12), np.random.default_rng(3), np.random.default_rng(3)
    a, b = Batches(x, None, 4, rng1), Batches(x, None, 4, rng2)
    rng2.standard_normal(1000)  # a trainer drawing noise from the same generator
    for _ in range(10):
        xa, la = next(a)
        np.testing.assert_array_equal(xa, next(b)[0])
        assert la is None


def test_minibatches_bad_args():
    with pytest.raises(ValueError):
        Batches(np.zeros(4), None, 5, np.random.default_rng(0))
    with pytest.raises(ValueError):
        Batches(np.zeros(4), np.zeros(3), 2, np.random.default_rng(0))
    it = Batches(np.zeros(8), None, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n=6"):
        Batches(np.zeros(6), None, 2, np.random.default_rng(0)).load_state_dict(it.state_dict())


def test_datasets_constant():
    assert DATASETS == ("mnist", "fashion-mnist", "8gaussians", "25gaussians", "swissroll")
