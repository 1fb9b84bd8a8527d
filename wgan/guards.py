"""The divergence bound: when a run has blown up although every number is still finite.

A GAN or WGAN with a learning rate far too large (``--lr 1e6``) does not produce NaNs: its
generator loss reaches 1e15 and, under weight clipping, its losses stay small while the
generator's weights grow to 1e7.  Trained on, such a run ends with exit status 0.  So a run
is stopped as diverged when

* a loss or critic score of a step (``LOSS_KEYS``: each ``*_loss``, the Wasserstein estimate,
  D(real), D(fake), the gradient penalty) exceeds the bound in absolute value (checked every
  step: the numbers are already there), or
* a parameter of either network does (checked before each sample picture and checkpoint, and
  at the end, so a diverged network is never saved over the last good checkpoint).

The default bound, ``DEFAULT_DIVERGENCE_BOUND`` = 1e6, is far above anything a healthy run
shows: the README's runs have losses of at most a few hundred and parameters below 10.
``--divergence-bound inf`` turns the check off.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

DEFAULT_DIVERGENCE_BOUND = 1e6
SCORE_KEYS = ("wasserstein", "d_real", "d_fake", "gradient_penalty")


def is_loss_key(key: str) -> bool:
    """Whether the metrics key ``key`` is a loss or critic score the bound applies to."""
    return key.endswith("_loss") or key in SCORE_KEYS


def beyond_bound(record: dict[str, Any], bound: float) -> tuple[str, float] | None:
    """The first (key, value) of a metrics line whose loss or score exceeds ``bound`` in
    absolute value, or None.  Non-finite values are the NaN guard's, not this check's."""
    for key, value in record.items():
        if (is_loss_key(key) and isinstance(value, float) and math.isfinite(value)
                and abs(value) > bound):
            return key, value
    return None


def largest_parameter(named_parameters: Iterable[tuple[str, Any]]) -> tuple[str, float]:
    """(name, largest absolute value) over the given (name, Parameter) pairs; ('', 0.0) if
    there are none.  One reduction per parameter on its own backend."""
    name, largest = "", 0.0
    for param_name, param in named_parameters:
        value = float(param._backend.xp.abs(param.array).max()) if param.array.size else 0.0
        if value > largest:
            name, largest = param_name, value
    return name, largest
