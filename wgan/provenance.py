"""Which data a run trained on: the record ``config.json`` keeps, and the check a resume makes.

:func:`data_record` describes the training files of an image dataset: the resolved absolute
directory, each file's name, size and SHA-256, and the image count in the files' header.
:func:`check_same_data` compares a saved record with the files a resumed run would read and
raises :class:`DataMismatchError` naming the file that differs, so a resumed run never goes on
with other data than it started with.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path
from typing import Any

from .data import find_files

CHUNK = 1 << 20


class DataMismatchError(ValueError):
    """The files a resumed run would train on are not those it started with."""


def sha256(path: str | os.PathLike) -> str:
    """The hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe_files(images: Path, labels: Path) -> dict[str, Any]:
    """The record of one (images, labels) pair of IDX files (see the module docstring)."""
    images, labels = Path(images).resolve(), Path(labels).resolve()
    return {
        "dir": str(images.parent),
        "files": {p.name: {"bytes": p.stat().st_size, "sha256": sha256(p)} for p in (images, labels)},
        "images": idx_count(images),
    }


def idx_count(path: Path) -> int:
    """The first dimension in an IDX file's header (the image count), read without the data.
    The file has been validated by :func:`wgan.data.read_idx` when the run loaded it."""
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    with (gzip.open if gzipped else open)(path, "rb") as f:
        return int.from_bytes(f.read(8)[4:8], "big")


def data_record(dataset: str, data_dir: str | os.PathLike | None, split: str = "train",
                only_data_dir: bool = False) -> dict[str, Any]:
    """The record of the ``split`` files of ``dataset`` that :func:`wgan.data.find_files` picks
    for ``data_dir`` (no download: call it after the data has been loaded)."""
    images, labels = find_files(dataset, split, data_dir, download=False,
                                only_data_dir=only_data_dir)
    return {"dataset": dataset, "split": split, **describe_files(images, labels)}


def check_same_data(saved: dict[str, Any], current: dict[str, Any]) -> None:
    """Raise :class:`DataMismatchError` unless ``current`` holds the files of ``saved``, byte for
    byte (by SHA-256); the message names the first file that differs and both directories."""
    where = f"the run trained on {saved['dir']}, this resume found {current['dir']}"
    saved_files, current_files = saved["files"], current["files"]
    for name, info in saved_files.items():
        if name not in current_files:
            raise DataMismatchError(
                f"the training data differ: {name} is missing (found "
                f"{', '.join(sorted(current_files))}); {where}")
        if current_files[name]["sha256"] != info["sha256"]:
            raise DataMismatchError(
                f"the training data differ: {name} has SHA-256 {current_files[name]['sha256']}, "
                f"the run trained on one with {info['sha256']} ({current['images']} images now, "
                f"{saved['images']} then); {where}")
