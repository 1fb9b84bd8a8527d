"""The agreement gate: no speed is reported for a computation that differs.

Each benchmark row is first run once on both frameworks from identical weights and inputs,
and every quantity its runner exposes (losses, gradients, outputs, parameters after the
optimiser step) is compared. The error of a quantity a (minigrad) against b (PyTorch) is

    max|a - b| / max(max|b|, 1e-3 * S)

where S is the largest max|b| among the quantities of its group (e.g. all gradients of the
critic). The floor keeps a quantity that is exactly zero in exact arithmetic (the gradient
of the critic's last bias: d(mean D(fake) - mean D(real))/db = 1 - 1) from turning rounding
noise into an infinite relative error. Tolerances: 1e-4 in float32, 1e-10 in float64.

Float32 can be ill-conditioned where float64 is not. The critic's gradient is a difference of
two nearly equal terms, mean grad D(fake) - mean grad D(real) (at initialisation the random
'real' images and the generator's grey output score alike), so float32 rounding is amplified;
and a pre-activation within rounding of a leaky ReLU's kink takes the other branch in one
framework only. At batch 50 both frameworks' float32 critic gradients are 2e-4..1e-3 away
from the float64 result, normwise, and up to 1e-2 apart per tensor (after the cycle's five
Adam steps, more). So a float32 row that fails the direct comparison is judged against the
float64 result of the same row (PyTorch's, which the float64 check ties to minigrad's at 1e-10):
per group, minigrad's normwise error ||a - r|| / ||r|| must be at most
max(1e-4, 10 x PyTorch's). A float32-only bug in minigrad is far less accurate than PyTorch
and fails; two correct float32 computations pass.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

TOLERANCE = {"float32": 1e-4, "float64": 1e-10}
FLOOR_FRACTION = 1e-3
REFERENCE_FACTOR = 10.0


@dataclass
class Comparison:
    row: str
    dtype: str
    quantity: str
    error: float
    tolerance: float
    scale: float

    @property
    def ok(self) -> bool:
        return bool(self.error <= self.tolerance)

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


class AgreementError(RuntimeError):
    """minigrad and PyTorch disagree; carries the failing comparisons."""

    def __init__(self, failures: list[Comparison]):
        self.failures = failures
        lines = [f"  {c.row} [{c.dtype}] {c.quantity}: error {c.error:.3g} > {c.tolerance:g} "
                 f"(scale {c.scale:.3g})" for c in failures[:20]]
        more = f"\n  ... and {len(failures) - 20} more" if len(failures) > 20 else ""
        super().__init__("minigrad and PyTorch disagree, so no timings are reported:\n"
                         + "\n".join(lines) + more)


def group_of(quantity: str) -> str:
    """Quantities are named 'kind/model/name'; the floor is shared within 'kind/model'."""
    return quantity.rsplit("/", 1)[0]


def compare(row: str, dtype: str, ours: dict[str, np.ndarray], reference: dict[str, np.ndarray],
            tolerance: float | None = None) -> list[Comparison]:
    """Compare two snapshots (same keys) of one row; see the module docstring for the error."""
    if set(ours) != set(reference):
        missing = sorted(set(ours) ^ set(reference))
        return [Comparison(row, dtype, f"missing: {name}", float("inf"), 0.0, 0.0)
                for name in missing]
    tol = TOLERANCE[dtype] if tolerance is None else tolerance
    scales = {k: float(np.max(np.abs(v))) if np.size(v) else 0.0 for k, v in reference.items()}
    group_scale: dict[str, float] = {}
    for k, s in scales.items():
        group_scale[group_of(k)] = max(group_scale.get(group_of(k), 0.0), s)
    out = []
    for k in sorted(reference):
        a, b = np.asarray(ours[k], dtype=np.float64), np.asarray(reference[k], dtype=np.float64)
        if a.shape != b.shape:
            out.append(Comparison(row, dtype, f"{k} shape {a.shape} vs {b.shape}",
                                  float("inf"), tol, scales[k]))
            continue
        denom = max(scales[k], FLOOR_FRACTION * group_scale[group_of(k)], np.finfo(float).tiny)
        diff = float(np.max(np.abs(a - b))) if a.size else 0.0
        if not np.all(np.isfinite(a)):
            diff = float("inf")
        out.append(Comparison(row, dtype, k, diff / denom, tol, scales[k]))
    return out


def _normwise(a: list[np.ndarray], r: list[np.ndarray]) -> float:
    diff = np.sqrt(sum(float(np.sum((x - y) ** 2)) for x, y in zip(a, r)))
    norm = np.sqrt(sum(float(np.sum(y ** 2)) for y in r))
    if not all(np.all(np.isfinite(x)) for x in a):
        return float("inf")
    return diff / norm if norm > 0 else diff


def compare_to_reference(row: str, dtype: str, ours: dict[str, np.ndarray],
                         theirs: dict[str, np.ndarray], reference: dict[str, np.ndarray],
                         tolerance: float | None = None) -> list[Comparison]:
    """Per group: is minigrad's ``dtype`` result as close to the float64 ``reference`` as
    PyTorch's is (within ``REFERENCE_FACTOR``)? See the module docstring."""
    tol = TOLERANCE[dtype] if tolerance is None else tolerance
    keys = sorted(reference.keys() & theirs.keys())
    if set(ours) != set(theirs) or not keys:
        return compare(row, dtype, ours, theirs, tolerance)
    groups: dict[str, list[str]] = {}
    for k in keys:
        groups.setdefault(group_of(k), []).append(k)
    out = []
    for group, names in groups.items():
        ref = [np.asarray(reference[k], dtype=np.float64) for k in names]
        mine = _normwise([np.asarray(ours[k], dtype=np.float64) for k in names], ref)
        other = _normwise([np.asarray(theirs[k], dtype=np.float64) for k in names], ref)
        scale = max(float(np.max(np.abs(r))) if r.size else 0.0 for r in ref)
        out.append(Comparison(row, dtype, f"{group}/* normwise vs float64 (PyTorch {other:.1e})",
                              mine, max(tol, REFERENCE_FACTOR * other), scale))
    return out


def gate(comparisons: list[Comparison]) -> None:
    """Raise :class:`AgreementError` if any comparison failed."""
    failures = [c for c in comparisons if not c.ok]
    if failures:
        raise AgreementError(failures)


def worst(comparisons: list[Comparison]) -> dict[str, dict]:
    """The largest error per dtype (for the report)."""
    out: dict[str, dict] = {}
    for c in comparisons:
        if c.dtype not in out or c.error > out[c.dtype]["error"]:
            out[c.dtype] = {"error": c.error, "row": c.row, "quantity": c.quantity,
                            "tolerance": c.tolerance, "count": 0}
    for c in comparisons:
        out[c.dtype]["count"] += 1
    return out
