"""Fixtures shared by every test package: the CuPy test double (tests/cupy_double)."""
import pytest

from tests.cupy_double import installed as install_cupy_double


@pytest.fixture(scope="module")
def cupy_double_module():
    """The CuPy double installed as ``cupy`` for a whole test module (its ``counters`` count)."""
    with install_cupy_double() as cupy:
        yield cupy


@pytest.fixture
def cupy_double(cupy_double_module):
    """The module's CuPy double, its counters reset for this test."""
    cupy_double_module.counters.reset()
    return cupy_double_module
