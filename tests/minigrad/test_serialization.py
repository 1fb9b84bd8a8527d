"""minigrad.serialization: exact round trips, no pickle, atomic writes, clear errors."""
import os

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad import optim
from minigrad.serialization import CheckpointError, load, save


def model(dtype="float32"):
    return nn.Sequential(nn.Conv2d(1, 3, 3, dtype=dtype), nn.BatchNorm2d(3, dtype=dtype),
                         nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2, dtype=dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_module_state_dict_round_trips_bit_for_bit(dtype, tmp_path):
    mg.manual_seed(0)
    src = model(dtype)
    src(mg.randn(4, 1, 6, 6, dtype=dtype))  # move the running statistics and the batch counter
    save(src.state_dict(), tmp_path / "model.npz")
    mg.manual_seed(1)
    dst = model(dtype)
    loaded = load(tmp_path / "model.npz")
    assert list(loaded) == list(src.state_dict())
    dst.load_state_dict(loaded)
    for (k, a), b in zip(src.state_dict().items(), dst.state_dict().values(), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a.numpy(), b.numpy()), k
    assert dst[1].num_batches_tracked.item() == 1 and dst[1].num_batches_tracked.dtype == np.int64


def test_optimizer_state_round_trips(tmp_path):
    m = model()
    opt = optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for _ in range(3):
        opt.zero_grad()
        m(mg.randn(4, 1, 6, 6)).sum().backward()
        opt.step()
    sd = opt.state_dict()
    save(sd, tmp_path / "opt.npz")
    back = load(tmp_path / "opt.npz")
    assert back["param_groups"] == sd["param_groups"]
    assert back["state"].keys() == sd["state"].keys()
    for i, entry in sd["state"].items():
        assert back["state"][i]["step"] == entry["step"] == 3
        for name in ("exp_avg", "exp_avg_sq"):
            assert back["state"][i][name].dtype == np.float32
            np.testing.assert_array_equal(back["state"][i][name], entry[name])


def test_rng_state_round_trips(tmp_path):
    g = mg.Generator(2024)
    g.numpy_generator.standard_normal(5)  # advance, so has_uint32 / the state are not fresh
    g.numpy_generator.integers(0, 10, dtype=np.uint32)
    save({"rng": g.get_state()}, tmp_path / "rng.npz")
    expected = mg.randn(10, generator=g).numpy()
    h = mg.Generator(0)
    h.set_state(load(tmp_path / "rng.npz")["rng"])
    np.testing.assert_array_equal(mg.randn(10, generator=h).numpy(), expected)


def test_nested_structures_and_python_values(tmp_path):
    obj = {
        "ints": [0, -7, 2 ** 127 + 12345, -(2 ** 200)],
        "floats": (0.1, -0.0, float("inf"), 1e-310, 2.0 ** 0.5),
        "flags": [True, False, None],
        "text": "critic \u2192 generator",
        3: "int key",
        None: {"deep": [[{"x": np.arange(6, dtype=np.int32).reshape(2, 3)}]]},
        "arrays": [np.zeros((0, 4)), np.array(3.5), np.array([True, False]), np.arange(4, dtype=np.uint8),
                   np.float16([1.5, -2.25])],
        "scalar": np.float64(0.25),
        "tensor": mg.tensor([[1.0, 2.0]], dtype="float64"),
        "empty": {},
        "tuple_in_list": [(1, 2), []],
    }
    save(obj, tmp_path / "nested.npz")
    back = load(tmp_path / "nested.npz")
    assert list(back) == list(obj)
    assert back["ints"] == obj["ints"] and type(back["ints"][2]) is int
    assert back["floats"] == obj["floats"] and isinstance(back["floats"], tuple)
    assert str(back["floats"][1]) == "-0.0"
    assert back["flags"] == [True, False, None] and back["text"] == obj["text"] and back[3] == "int key"
    np.testing.assert_array_equal(back[None]["deep"][0][0]["x"], obj[None]["deep"][0][0]["x"])
    for a, b in zip(back["arrays"], obj["arrays"], strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    assert back["scalar"] == 0.25 and isinstance(back["scalar"], np.float64)
    assert isinstance(back["tensor"], mg.Tensor) and back["tensor"].dtype == np.float64
    np.testing.assert_array_equal(back["tensor"].numpy(), [[1.0, 2.0]])
    assert back["empty"] == {} and back["tuple_in_list"] == [(1, 2), []]
    nan = load_one(tmp_path, float("nan"))
    assert nan != nan


def load_one(tmp_path, value):
    save(value, tmp_path / "one.npz")
    return load(tmp_path / "one.npz")


def test_file_is_a_plain_npz_without_pickle(tmp_path):
    path = tmp_path / "plain.npz"
    save({"w": np.ones(3)}, path)
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {"__structure__", "a0"}
        np.testing.assert_array_equal(archive["a0"], np.ones(3))
    assert os.listdir(tmp_path) == ["plain.npz"]  # the path is used as given, no temp file left


def test_unsupported_values_raise_and_write_nothing(tmp_path):
    path = tmp_path / "bad.npz"
    with pytest.raises(TypeError, match=r"set .*obj\['a'\]\[1\]"):
        save({"a": [1, {2}]}, path)
    with pytest.raises(TypeError, match="dtype object"):
        save(np.array([None, 1], dtype=object), path)
    with pytest.raises(TypeError, match="dict key"):
        save({(1, 2): 3}, path)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "foreign_npz", "flipped_byte"])
def test_corrupt_files_raise_naming_the_path(damage, tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"w": np.arange(1000.0), "meta": {"step": 3}}, path)
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(b"this is not a checkpoint" * 10)
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "foreign_npz":
        with path.open("wb") as f:
            np.savez(f, x=np.ones(2))
    else:
        data = bytearray(raw)
        data[len(data) // 3] ^= 0xFF  # inside the array data: the zip CRC check catches it
        path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=str(path)):
        load(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load(tmp_path / "nope.npz")


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"version": 1}, path)

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save({"version": 2}, path)
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary file left behind
    monkeypatch.undo()
    assert load(path) == {"version": 1}  # the previous checkpoint is intact

    with pytest.raises(OSError):
        monkeypatch.setattr(np, "savez", broken_savez)
        save({"version": 2}, tmp_path / "new.npz")
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_load_state_dict_errors_after_loading_name_the_key(tmp_path):
    save(model().state_dict(), tmp_path / "m.npz")
    sd = load(tmp_path / "m.npz")
    m = model()
    wrong = {**sd, "4.weight": mg.zeros(3, 48)}
    with pytest.raises(RuntimeError, match=r"size mismatch for 4\.weight"):
        m.load_state_dict(wrong)
    partial = {k: v for k, v in sd.items() if k != "1.running_mean"}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "1\.running_mean"'):
        m.load_state_dict(partial)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "5\.weight"'):
        m.load_state_dict({**sd, "5.weight": mg.zeros(1)})


def test_full_training_checkpoint_resumes_identically(tmp_path):
    """Model, optimizer and RNG in one file: resuming reproduces the uninterrupted run."""
    def train(m, opt, steps):
        for _ in range(steps):
            x = mg.randn(4, 1, 6, 6)
            opt.zero_grad()
            (m(x) ** 2).mean().backward()
            opt.step()

    mg.manual_seed(5)
    m = model()
    opt = optim.RMSprop(m.parameters(), lr=5e-5)
    train(m, opt, 2)
    save({"model": m.state_dict(), "optimizer": opt.state_dict(),
          "rng": mg.random.default_generator.get_state()}, tmp_path / "ckpt.npz")
    train(m, opt, 2)
    expected = {k: v.numpy().copy() for k, v in m.state_dict().items()}

    mg.manual_seed(99)
    m2 = model()
    opt2 = optim.RMSprop(m2.parameters(), lr=5e-5)
    ckpt = load(tmp_path / "ckpt.npz")
    m2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    mg.random.default_generator.set_state(ckpt["rng"])
    train(m2, opt2, 2)
    for k, v in m2.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), expected[k], err_msg=k)


def _write_structure(path, root):
    """A checkpoint file whose structure description is ``root`` (crafted, no arrays)."""
    import json

    structure = json.dumps({"format": "minigrad.checkpoint", "version": 1, "root": root})
    with path.open("wb") as f:
        np.savez(f, __structure__=np.frombuffer(structure.encode(), np.uint8))


@pytest.mark.parametrize("depth", [150, 100_000])  # past MAX_DEPTH; past the JSON parser's limit
def test_crafted_deep_nesting_is_a_checkpoint_error(depth, tmp_path):
    from minigrad.serialization import MAX_DEPTH

    node = {"t": "none"}
    for _ in range(min(depth, 5000)):
        node = {"t": "list", "v": [node]}
    path = tmp_path / "deep.npz"
    if depth <= 5000:
        _write_structure(path, node)
    else:  # too deep for json.dumps to build: write the text by hand
        text = ('{"format": "minigrad.checkpoint", "version": 1, "root": '
                + '{"t": "list", "v": [' * depth + '{"t": "none"}' + ']}' * depth + '}')
        with path.open("wb") as f:
            np.savez(f, __structure__=np.frombuffer(text.encode(), np.uint8))
    with pytest.raises(CheckpointError, match="deep.npz"):
        load(path)
    ok = {"t": "none"}
    for _ in range(MAX_DEPTH):
        ok = {"t": "list", "v": [ok]}
    _write_structure(path, ok)
    assert load(path) is not None


def test_saving_a_too_deep_structure_is_refused_and_writes_nothing(tmp_path):
    deep = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than"):
        save(deep, tmp_path / "deep.npz")
    assert os.listdir(tmp_path) == []


def test_checkpoint_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        save({"w": np.ones(2)}, tmp_path / "a.npz")
        os.umask(0o077)
        save({"w": np.ones(2)}, tmp_path / "b.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "a.npz").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.npz").stat().st_mode & 0o777 == 0o600
