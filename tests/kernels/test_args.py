"""kernels.args: the one reader of int-or-pair and conv padding arguments, and its errors."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from kernels.args import (
    conv_padding, non_negative_padding4, ntuple, output_padding_pair, padding4, pair,
    positive_pair, same_padding,
)


def test_ints_and_sequences_become_tuples():
    assert pair(3, "k") == (3, 3)
    assert pair((2, 5), "k") == (2, 5) and pair([2, 5], "k") == (2, 5)
    assert pair(np.int64(4), "k") == (4, 4) and pair((np.int32(1), 2), "k") == (1, 2)
    assert type(pair(np.int64(4), "k")[0]) is int and pair(np.array(3), "k") == (3, 3)
    assert ntuple(1, 4, "p") == (1, 1, 1, 1)
    assert positive_pair((1, 2), "stride") == (1, 2)


@pytest.mark.parametrize("value, error, message", [
    (2.5, TypeError, r"^k must be an int or a sequence of 2 ints, got 2.5$"),
    ("3", TypeError, r"^k must be an int or a sequence of 2 ints, got '3'$"),
    (None, TypeError, r"^k must be an int or a sequence of 2 ints, got None$"),
    (True, TypeError, r"^k must be an int or a sequence of 2 ints, got True$"),
    ((1, 2, 3), ValueError, r"^k must be an int or a sequence of 2 ints, got \(1, 2, 3\)$"),
    ((1, 2.0), TypeError, r"^k must contain ints, got 2.0 \(float\)$"),
    ((1, False), TypeError, r"^k must contain ints, got False \(bool\)$"),
    (np.bool_(True), TypeError, r"^k must be an int or a sequence of 2 ints, got np.True_$"),
])
def test_pair_rejects_what_is_not_an_int_or_a_pair_of_ints(value, error, message):
    with pytest.raises(error, match=message):
        pair(value, "k")


def test_positive_pair_names_the_argument():
    with pytest.raises(ValueError, match=r"^max_pool2d: stride must be positive, got \(0, 1\)$"):
        positive_pair((0, 1), "max_pool2d: stride")


def test_conv_padding_keeps_the_form_a_layer_stores():
    assert conv_padding(1) == (1, 1) and conv_padding((1, 2)) == (1, 2)
    assert conv_padding([0, 1, 2, 3]) == (0, 1, 2, 3)
    assert conv_padding("same") == "same" and conv_padding("VALID") == "valid"


@pytest.mark.parametrize("value, error, message", [
    ("full", ValueError, r"^padding string must be 'same' or 'valid', got 'full'$"),
    ((1, 2, 3), ValueError, r"^padding must be an int, \(ph, pw\), \(top, bottom, left, right\), "
                            r"'same' or 'valid'; got \(1, 2, 3\)$"),
    (1.5, TypeError, r"^padding must be an int, \(ph, pw\), .*got 1.5$"),
    ((1, "a"), TypeError, r"^padding must contain ints, got 'a' \(str\)$"),
])
def test_conv_padding_errors(value, error, message):
    with pytest.raises(error, match=message):
        conv_padding(value)


def test_padding4_resolves_every_form():
    geometry = dict(in_hw=(7, 8), kernel_hw=(3, 4), stride=(2, 2), dilation=(1, 1))
    assert padding4(0, **geometry) == (0, 0, 0, 0) == padding4("valid", **geometry)
    assert padding4((1, 2), **geometry) == (1, 1, 2, 2)
    assert padding4((0, 1, 2, 3), **geometry) == (0, 1, 2, 3)
    # TF SAME, any stride: Ho = ceil(7 / 2) = 4 needs 3*2 + 3 - 7 = 2 rows; Wo = 4 needs 6 + 4 - 8 = 2
    assert padding4("same", **geometry) == (1, 1, 1, 1)
    assert same_padding(28, 5, 2, 1) == (1, 2)  # odd total: the extra pixel goes after
    assert same_padding(5, 3, 1, 2) == (2, 2)   # dilation widens the kernel to 5


def test_padding_and_output_padding_ranges():
    assert non_negative_padding4(2) == (2, 2, 2, 2)
    with pytest.raises(ValueError, match=r"padding must be non-negative, got \(top, bottom, left, "
                                         r"right\) = \(0, -1, 0, 0\)"):
        non_negative_padding4((0, -1, 0, 0))
    assert output_padding_pair(1, (2, 2), (1, 1)) == (1, 1)
    assert output_padding_pair((0, 2), (1, 1), (1, 3)) == (0, 2)
    with pytest.raises(ValueError, match=r"^output_padding \(2, 2\) must be >= 0 and smaller than "
                                         r"either stride \(2, 2\) or dilation \(1, 1\)$"):
        output_padding_pair(2, (2, 2), (1, 1))
    with pytest.raises(ValueError, match=r"output_padding \(-1, 0\)"):
        output_padding_pair((-1, 0), (2, 2), (1, 1))


def test_layers_ops_and_kernels_give_the_same_error():
    """One reader: a bad padding string fails the same way in nn, F and the geometry."""
    message = r"padding string must be 'same' or 'valid', got 'full'"
    x, w = mg.zeros(1, 1, 5, 5), mg.zeros(1, 1, 3, 3)
    for call in (lambda: nn.Conv2d(1, 1, 3, padding="full"),
                 lambda: nn.ConvTranspose2d(1, 1, 3, padding="full"),
                 lambda: F.conv2d(x, w, padding="full"),
                 lambda: F.conv_transpose2d(x, w, padding="full")):
        with pytest.raises(ValueError, match=message):
            call()
    with pytest.raises(TypeError, match=r"^kernel_size must be an int or a sequence of 2 ints"):
        nn.Conv2d(1, 1, 2.5)
    with pytest.raises(TypeError, match=r"^max_pool2d: kernel_size must be an int or a sequence"):
        F.max_pool2d(x, 2.5)
    with pytest.raises(ValueError, match=r"^avg_pool2d: kernel_size must be positive, got \(0, 0\)"):
        F.avg_pool2d(x, 0)
    with pytest.raises(TypeError, match=r"^interpolate: size must be an int or a sequence"):
        F.interpolate(x, size="big")


def test_layers_keep_pytorchs_attributes():
    conv = nn.Conv2d(1, 2, 3, stride=2, padding=1)
    assert (conv.kernel_size, conv.stride, conv.padding, conv.dilation) == ((3, 3), (2, 2), (1, 1), (1, 1))
    assert nn.Conv2d(1, 2, (3, 1), padding="SAME").padding == "same"
    assert nn.Conv2d(1, 2, 3, padding=(0, 1, 2, 3)).padding == (0, 1, 2, 3)
    assert nn.ConvTranspose2d(1, 2, 4, stride=2, output_padding=1).output_padding == (1, 1)
