"""wgan.provenance: the data record of config.json and the same-data check of a resume; an
explicit data directory is used alone."""
import hashlib

import pytest

from wgan import data, provenance
from wgan.data import DatasetNotFoundError, load_images

from .test_data import isolated, write_split  # noqa: F401 (isolated is a fixture)


def test_record_names_the_resolved_directory_files_count_and_checksums(isolated, monkeypatch):
    write_split(isolated / "mnist", n=7)
    monkeypatch.chdir(isolated)
    record = provenance.data_record("mnist", "mnist", split="test", only_data_dir=True)
    assert record["dir"] == str((isolated / "mnist").resolve()) and record["images"] == 7
    assert sorted(record["files"]) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    for name, info in record["files"].items():
        raw = (isolated / "mnist" / name).read_bytes()
        assert info == {"bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}


def test_uncompressed_files_are_counted_too(isolated):
    write_split(isolated / "raw", n=3, gz=False)
    assert provenance.data_record("mnist", isolated / "raw", "test")["images"] == 3


def test_other_data_is_refused_naming_the_file(isolated):
    write_split(isolated / "a", n=5)
    write_split(isolated / "b", n=6)
    a = provenance.data_record("mnist", isolated / "a", "test")
    provenance.check_same_data(a, provenance.data_record("mnist", isolated / "a", "test"))
    with pytest.raises(provenance.DataMismatchError,
                       match=r"t10k-images-idx3-ubyte.gz has SHA-256 .*\(6 images now, 5 then\)"):
        provenance.check_same_data(a, provenance.data_record("mnist", isolated / "b", "test"))
    write_split(isolated / "c", n=5, gz=False)
    with pytest.raises(provenance.DataMismatchError, match="t10k-images-idx3-ubyte.gz is missing"):
        provenance.check_same_data(a, provenance.data_record("mnist", isolated / "c", "test"))


def test_an_explicit_data_dir_is_used_alone(isolated, monkeypatch):
    write_split(isolated / "home/.cache/wgan/mnist", n=5)  # what used to be used silently
    with pytest.raises(DatasetNotFoundError, match=r"--data-dir .*nowhere does not exist"):
        load_images("mnist", "test", isolated / "nowhere", only_data_dir=True)
    (isolated / "empty").mkdir()
    with pytest.raises(DatasetNotFoundError, match=r"--data-dir .*empty has no mnist test split"):
        load_images("mnist", "test", isolated / "empty", only_data_dir=True)
    monkeypatch.setattr(data, "_download", lambda *a: pytest.fail("must not download"))
    with pytest.raises(DatasetNotFoundError):
        load_images("mnist", "test", isolated / "empty", only_data_dir=True)
    assert len(load_images("mnist", "test", isolated / "empty")[0]) == 5  # the library default
