"""minigrad.nn: Module semantics, default initialisation, and layers against torch.nn."""
import math
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.nn import init
from tests.opcheck import OpCase, case_params, check_against_torch, check_forward, relative_error, shapes

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def arr(t) -> np.ndarray:
    return t.detach().numpy()


def small_model():
    """Conv critic-like stack covering parameters, buffers and nesting."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1),
        nn.BatchNorm2d(4),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 1),
    )


def torch_small_model():
    tnn = torch.nn
    return tnn.Sequential(
        tnn.Conv2d(1, 4, 3, stride=2, padding=1), tnn.BatchNorm2d(4), tnn.LeakyReLU(0.2),
        tnn.Flatten(), tnn.Linear(4 * 4 * 4, 1),
    )


def copy_from_torch(ours: nn.Module, theirs) -> None:
    """Load a torch module's state (as NumPy arrays) into ours; also checks the key names agree."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


# ----- registration and traversal ---------------------------------------------------------------
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        self.bn = nn.BatchNorm1d(2)
        self.scale = nn.Parameter(mg.ones(2))
        self.register_buffer("step_count", mg.zeros(1))
        self.register_buffer("cache", mg.zeros(2), persistent=False)
        self.plain = mg.zeros(5)  # a plain tensor attribute is neither parameter nor buffer

    def forward(self, x):
        return self.bn(self.net(x)) * self.scale


def test_registration_names_follow_pytorch():
    m = Block()
    assert [n for n, _ in m.named_parameters()] == [
        "scale", "net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "bn.weight", "bn.bias",
    ]
    assert [n for n, _ in m.named_buffers()] == [
        "step_count", "cache", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
    ]
    assert list(m.state_dict()) == [
        "scale", "step_count", "net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias",
        "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
    ]
    assert [n for n, _ in m.named_children()] == ["net", "bn"]
    assert [n for n, _ in m.named_modules()] == ["", "net", "net.0", "net.1", "net.2", "bn"]
    assert len(list(m.parameters(recurse=False))) == 1
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert "plain" not in dict(m.named_buffers())


@needs_torch
def test_state_dict_keys_match_torch_for_the_same_architecture():
    assert list(small_model().state_dict()) == list(torch_small_model().state_dict())
    ours = nn.Sequential(OrderedDict(conv=nn.ConvTranspose2d(4, 2, 4, 2, 1, bias=False),
                                     ln=nn.LayerNorm([2, 8, 8]), emb_proj=nn.Linear(8, 8)))
    theirs = torch.nn.Sequential(OrderedDict(conv=torch.nn.ConvTranspose2d(4, 2, 4, 2, 1, bias=False),
                                             ln=torch.nn.LayerNorm([2, 8, 8]),
                                             emb_proj=torch.nn.Linear(8, 8)))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
           {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


def test_reassignment_and_deletion():
    m = Block()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        m.scale = mg.ones(2)  # a plain tensor can't replace a parameter
    m.scale = None
    assert "scale" not in m.state_dict()
    m.scale = nn.Parameter(mg.ones(2))
    m.step_count = mg.full((1,), 3.0)  # assigning a tensor to a buffer name updates the buffer
    assert m.state_dict()["step_count"].item() == 3.0
    m.net = nn.Linear(3, 2)  # a module replaces a module
    assert [n for n, _ in m.named_children()] == ["net", "bn"]
    del m.bn
    assert not hasattr(m, "bn") and "bn.weight" not in m.state_dict()


def test_assigning_before_init_raises():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(m.parameters())) == 2
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_train_eval_and_requires_grad_propagate():
    m = Block()
    assert m.training and m.bn.training
    assert m.eval() is m and not m.training and not m.net[1].training
    m.train()
    assert all(mod.training for mod in m.modules())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_apply_zero_grad_and_call():
    m = Block()
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == "Block" and seen.count("Linear") == 2
    m(mg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not np.any(p.grad.numpy()) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_sequential_indexing():
    m = small_model()
    assert len(m) == 5 and isinstance(m[0], nn.Conv2d) and m[-1] is m[4]
    assert [type(x).__name__ for x in m] == ["Conv2d", "BatchNorm2d", "LeakyReLU", "Flatten", "Linear"]
    tail = m[3:]
    assert isinstance(tail, nn.Sequential) and tail[1] is m[4]
    assert list(tail.state_dict()) == ["4.weight", "4.bias"]
    with pytest.raises(IndexError):
        m[5]
    assert m(mg.randn(2, 1, 8, 8)).shape == (2, 1)


@needs_torch
def test_repr_matches_torch():
    tnn = torch.nn
    pairs = [
        (small_model(), torch_small_model()),
        (nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1, output_padding=1, bias=False),
         tnn.ConvTranspose2d(4, 2, 4, stride=2, padding=1, output_padding=1, bias=False)),
        (nn.Conv2d(2, 3, 5, dilation=2), tnn.Conv2d(2, 3, 5, dilation=2)),
        (nn.LayerNorm(4), tnn.LayerNorm(4)),
        (nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Dropout(0.3), nn.Embedding(10, 3),
                       nn.Unflatten(1, (1, 28, 28)), nn.Upsample(scale_factor=2), nn.BatchNorm1d(3)),
         tnn.Sequential(tnn.ReLU(), tnn.Tanh(), tnn.Sigmoid(), tnn.Dropout(0.3), tnn.Embedding(10, 3),
                        tnn.Unflatten(1, (1, 28, 28)), tnn.Upsample(scale_factor=2), tnn.BatchNorm1d(3))),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


# ----- load_state_dict ---------------------------------------------------------------------------
def test_load_state_dict_copies_in_place():
    src, dst = small_model(), small_model()
    arrays_before = [p.array for p in dst.parameters()]
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert all(p.array is a for p, a in zip(dst.parameters(), arrays_before, strict=True))
    for (k, a), b in zip(src.state_dict().items(), dst.state_dict().values(), strict=True):
        assert np.array_equal(a.numpy(), b.numpy()), k
    # the state dict shares the arrays: it sees later in-place updates
    sd = dst.state_dict()
    dst[0].weight.array += 1
    assert np.array_equal(sd["0.weight"].numpy(), dst[0].weight.array)


def test_load_state_dict_errors_name_the_keys():
    m = small_model()
    sd = {k: v.numpy() for k, v in m.state_dict().items()}
    missing = dict(sd)
    del missing["1.running_var"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "1.running_var"'):
        m.load_state_dict(missing)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "extra.weight"'):
        m.load_state_dict({**sd, "extra.weight": np.zeros(3)})
    wrong = {**sd, "4.weight": np.zeros((2, 64), np.float32)}
    with pytest.raises(RuntimeError, match=r"size mismatch for 4.weight: .*\(2, 64\).*\(1, 64\)"):
        m.load_state_dict(wrong)
    with pytest.raises(RuntimeError, match="1.num_batches_tracked"):
        m.load_state_dict({**sd, "1.num_batches_tracked": np.array(1.5)})


def test_load_state_dict_checks_everything_before_copying():
    m = small_model()
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    bad = {k: np.full(v.shape, 7, v.dtype) for k, v in before.items()}
    bad["4.bias"] = np.zeros(3, np.float32)
    with pytest.raises(RuntimeError, match="4.bias"):
        m.load_state_dict(bad)
    for k, v in m.state_dict().items():
        assert np.array_equal(v.numpy(), before[k]), f"{k} changed by a failed load"


def test_load_state_dict_non_strict_and_casting():
    m = small_model()
    sd = {k: v.numpy().astype(np.float64) if v.dtype.kind == "f" else v.numpy()
          for k, v in small_model().state_dict().items()}
    del sd["0.bias"]
    sd["junk"] = np.zeros(1)
    missing, unexpected = m.load_state_dict(sd, strict=False)
    assert missing == ["0.bias"] and unexpected == ["junk"]
    assert m[0].weight.dtype == np.float32
    np.testing.assert_array_equal(m[0].weight.array, sd["0.weight"].astype(np.float32))


# ----- dtype, device and reproducibility ---------------------------------------------------------
def test_dtype_keyword_and_to():
    m = nn.Linear(3, 2, dtype="float64")
    assert m.weight.dtype == np.float64 and m.bias.dtype == np.float64
    bn = nn.BatchNorm2d(3)
    p = bn.weight
    bn.double()
    assert bn.weight is p and bn.weight.dtype == np.float64 and bn.running_mean.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64  # integer buffers keep their dtype
    bn.to("cpu").float()
    assert bn.weight.dtype == np.float32


def test_manual_seed_makes_init_reproducible():
    mg.manual_seed(123)
    a = small_model().state_dict()
    mg.manual_seed(123)
    b = small_model().state_dict()
    c = small_model().state_dict()
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    assert not np.array_equal(b["0.weight"].numpy(), c["0.weight"].numpy())


def test_parameter():
    t = mg.randn(2, 3)
    p = nn.Parameter(t)
    assert p.requires_grad and p.is_leaf and p.array is t.array
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert type(p * 2) is mg.Tensor


# ----- default initialisation ------------------------------------------------------------------
BOUND_CASES = [  # layers whose parameters PyTorch initialises uniformly: (ours, torch's)
    pytest.param(lambda: nn.Linear(300, 200), lambda: torch.nn.Linear(300, 200), id="Linear"),
    pytest.param(lambda: nn.Conv2d(16, 32, 5), lambda: torch.nn.Conv2d(16, 32, 5), id="Conv2d"),
    pytest.param(lambda: nn.ConvTranspose2d(64, 8, 4), lambda: torch.nn.ConvTranspose2d(64, 8, 4),
                 id="ConvTranspose2d"),
]


@needs_torch
@pytest.mark.parametrize("ours_fn,torch_fn", BOUND_CASES)
def test_default_uniform_init_bounds_match_torch(ours_fn, torch_fn):
    ours, theirs = ours_fn(), torch_fn()
    for (key, w), (tkey, tw) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert key == tkey and w.shape == tuple(tw.shape)
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight)
        bound = 1 / math.sqrt(fan_in)  # PyTorch's default for both weight and bias
        ours_max, torch_max = float(np.abs(arr(w)).max()), float(tw.detach().abs().max())
        assert ours_max <= bound and torch_max <= bound
        if w.numel() >= 200:  # large enough that the extremes approach the bound
            assert ours_max > 0.95 * bound and torch_max > 0.95 * bound
            assert abs(float(arr(w).mean())) < 0.1 * bound


@needs_torch
def test_default_init_of_norms_and_embedding():
    bn, ln = nn.BatchNorm2d(5), nn.LayerNorm((2, 3))
    for ours, theirs in ((bn, torch.nn.BatchNorm2d(5)), (ln, torch.nn.LayerNorm((2, 3)))):
        for k, v in theirs.state_dict().items():
            np.testing.assert_array_equal(arr(ours.state_dict()[k]), v.numpy())
    emb = arr(nn.Embedding(200, 50).weight)
    assert abs(emb.mean()) < 0.03 and abs(emb.std() - 1.0) < 0.03


@needs_torch
def test_fans_and_gains_match_torch():
    for shape in [(5, 3), (8, 4, 3, 3), (4, 8, 5, 2)]:
        ours = init._calculate_fan_in_and_fan_out(mg.empty(*shape))
        assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    for args in [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
                 ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu",)]:
        assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))
    with pytest.raises(ValueError):
        init._calculate_fan_in_and_fan_out(mg.empty(3))


def test_init_functions_follow_their_formulas():
    g = mg.Generator(0)
    w = mg.empty(400, 300, dtype="float64")
    fan_in, fan_out = 300, 400
    arr = w.array
    assert init.xavier_uniform_(w, gain=2.0, generator=g) is w and w.array is arr
    a = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w.numpy()).max() <= a and np.abs(w.numpy()).max() > 0.99 * a
    init.xavier_normal_(w, generator=g)
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.02)
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", generator=g)
    assert w.numpy().std() == pytest.approx(math.sqrt(2) / math.sqrt(fan_out), rel=0.02)
    init.kaiming_uniform_(w, a=0.2, generator=g)
    b = math.sqrt(3) * init.calculate_gain("leaky_relu", 0.2) / math.sqrt(fan_in)
    assert np.abs(w.numpy()).max() <= b and np.abs(w.numpy()).max() > 0.99 * b
    init.normal_(w, 0.0, 0.02, generator=g)
    assert w.numpy().std() == pytest.approx(0.02, rel=0.02) and abs(w.numpy().mean()) < 1e-3
    init.uniform_(w, -3, -1, generator=g)
    assert w.numpy().min() >= -3 and w.numpy().max() <= -1
    init.constant_(w, 0.5)
    assert np.all(w.numpy() == 0.5)
    init.zeros_(w), init.ones_(w)
    assert np.all(w.numpy() == 1)


def test_init_generator_reproducible_and_dtype_kept():
    w1, w2 = mg.empty(3, 4), mg.empty(3, 4)
    init.normal_(w1, generator=mg.Generator(7))
    init.normal_(w2, generator=mg.Generator(7))
    assert w1.dtype == np.float32 and np.array_equal(w1.numpy(), w2.numpy())


def test_init_works_on_parameters_under_autograd():
    p = nn.Parameter(mg.zeros(3, 3))
    y = (p * 2).sum()
    init.uniform_(p)
    assert p.requires_grad and p.grad_fn is None
    y.backward()  # the graph recorded before init is unaffected
    assert np.all(arr(p.grad) == 2)


# ----- forward and gradients against torch (float64) ---------------------------------------------
def _compare(ours, theirs, x_np, train=True, tol=1e-10):
    ours.double().train(train)
    theirs.double().train(train)
    copy_from_torch(ours, theirs)
    x = mg.tensor(x_np, requires_grad=True)
    tx = torch.from_numpy(x_np).requires_grad_(True)
    y, ty = ours(x), theirs(tx)
    assert relative_error(y.detach().numpy(), ty.detach().numpy()) <= tol
    cot = np.random.default_rng(1).standard_normal(ty.shape)
    (y * mg.tensor(cot)).sum().backward()
    (ty * torch.from_numpy(cot)).sum().backward()
    assert relative_error(x.grad.numpy(), tx.grad.numpy()) <= tol
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert relative_error(p.grad.numpy(), tp.grad.numpy()) <= tol, name
    for (name, b), tb in zip(ours.named_buffers(), theirs.buffers(), strict=True):
        assert relative_error(b.numpy(), tb.numpy()) <= tol, name


def _layer(name, ours_fn, torch_fn, shape):
    return pytest.param(ours_fn, torch_fn, shape, id=name)


LAYER_CASES = [  # (ours, torch's, input shape)
    _layer("linear_2d", lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (4, 5)),
    _layer("linear_3d", lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (2, 4, 5)),
    _layer("linear_1d_no_bias", lambda: nn.Linear(5, 3, bias=False),
           lambda: torch.nn.Linear(5, 3, bias=False), (5,)),
    _layer("conv2d", lambda: nn.Conv2d(3, 4, 3), lambda: torch.nn.Conv2d(3, 4, 3), (2, 3, 7, 6)),
    _layer("conv2d_strided", lambda: nn.Conv2d(3, 4, (4, 3), stride=2, padding=1, dilation=(1, 2)),
           lambda: torch.nn.Conv2d(3, 4, (4, 3), stride=2, padding=1, dilation=(1, 2)), (2, 3, 9, 8)),
    _layer("conv2d_same", lambda: nn.Conv2d(2, 3, 4, padding="same", bias=False),
           lambda: torch.nn.Conv2d(2, 3, 4, padding="same", bias=False), (2, 2, 6, 5)),
    _layer("conv_transpose2d", lambda: nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1),
           lambda: torch.nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1), (2, 4, 5, 5)),
    _layer("conv_transpose2d_outpad",
           lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
           lambda: torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (2, 3, 4, 5)),
    _layer("batchnorm2d", lambda: nn.BatchNorm2d(3), lambda: torch.nn.BatchNorm2d(3), (4, 3, 5, 5)),
    _layer("batchnorm1d", lambda: nn.BatchNorm1d(3, momentum=0.3),
           lambda: torch.nn.BatchNorm1d(3, momentum=0.3), (6, 3)),
    _layer("batchnorm1d_3d", lambda: nn.BatchNorm1d(3, affine=False),
           lambda: torch.nn.BatchNorm1d(3, affine=False), (4, 3, 5)),
    _layer("layernorm", lambda: nn.LayerNorm((4, 5)), lambda: torch.nn.LayerNorm((4, 5)), (3, 2, 4, 5)),
]


@needs_torch
@pytest.mark.parametrize("ours_fn,torch_fn,shape", LAYER_CASES)
def test_layer_matches_torch_float64(ours_fn, torch_fn, shape):
    torch.manual_seed(0)
    theirs = torch_fn()
    with torch.no_grad():  # move the norms' affine parameters away from ones/zeros
        for p in theirs.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    x = np.random.default_rng(0).standard_normal(shape)
    _compare(ours_fn(), theirs, x)


@needs_torch
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_running_stats_and_eval_match_torch(momentum):
    ours = nn.BatchNorm2d(3, momentum=momentum).double()
    theirs = torch.nn.BatchNorm2d(3, momentum=momentum).double()
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 5, 5)) * 2 + 1
        ours(mg.tensor(x))
        theirs(torch.from_numpy(x))
    for k, v in theirs.state_dict().items():
        assert relative_error(ours.state_dict()[k].numpy(), v.numpy()) <= 1e-12, k
    assert ours.num_batches_tracked.item() == 3
    x = rng.standard_normal((2, 3, 5, 5))
    ours.eval(), theirs.eval()
    y = ours(mg.tensor(x))
    assert relative_error(arr(y), theirs(torch.from_numpy(x)).detach().numpy()) <= 1e-10
    assert ours.num_batches_tracked.item() == 3  # eval does not count batches


def test_batchnorm_rejects_wrong_rank():
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(mg.randn(2, 3))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(mg.randn(2, 3, 4, 4))


def test_batchnorm_without_running_stats_uses_batch_statistics_in_eval():
    bn = nn.BatchNorm1d(2, track_running_stats=False).eval()
    assert list(bn.state_dict()) == ["weight", "bias"]
    y = bn(mg.tensor([[1.0, 2.0], [3.0, 6.0]]))
    np.testing.assert_allclose(arr(y), [[-1, -1], [1, 1]], atol=1e-4)


LINEAR_CASES = [
    OpCase(f"linear{shape}", lambda x, w, b: F.linear(x, w, b), shapes(shape, (3, 5), (3,)),
           torch_fn=lambda x, w, b: torch.nn.functional.linear(x, w, b),
           forward_expected=lambda x, w, b: np.einsum("...i,oi->...o", x, w) + b)
    for shape in [(4, 5), (2, 3, 5)]
]


@pytest.mark.parametrize("case", case_params(LINEAR_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_functional_linear_forward(case, dtype):
    check_forward(case, dtype)


@needs_torch
def test_functional_linear_matches_torch_with_second_order():
    for case in LINEAR_CASES:
        check_against_torch(case)


def test_activation_and_shape_layers():
    x = mg.tensor([[-2.0, 0.5], [1.0, -0.1]])
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), [[0, 0.5], [1, 0]])
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(x).numpy(), [[-0.4, 0.5], [1, -0.02]], rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(x.numpy()), rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-6)
    img = mg.randn(2, 3, 4, 4)
    assert nn.Flatten()(img).shape == (2, 48)
    assert nn.Flatten(0, 1)(img).shape == (6, 4, 4)
    assert nn.Unflatten(1, (3, 4, 4))(nn.Flatten()(img)).shape == (2, 3, 4, 4)
    assert nn.MaxPool2d(2)(img).shape == (2, 3, 2, 2)
    up = nn.Upsample(scale_factor=2)(img)
    assert up.shape == (2, 3, 8, 8) and np.array_equal(up.numpy()[:, :, ::2, ::2], img.numpy())
    idx = mg.tensor([[0, 2], [1, 1]])
    emb = nn.Embedding(3, 5)
    assert np.array_equal(arr(emb(idx))[0, 1], arr(emb.weight)[2])


def test_dropout_uses_training_flag():
    mg.manual_seed(0)
    d = nn.Dropout(0.5)
    x = mg.ones(1000)
    y = d(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 400 < (y == 0).sum() < 600
    assert d.eval()(x) is x
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_conv_arguments_are_validated():
    with pytest.raises(ValueError, match="padding"):
        nn.Conv2d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)


def test_same_padding_follows_tensorflow_for_strided_layers():
    """The Keras models in the seeds use strided 'same' convs: out = ceil(in / stride)."""
    x = mg.randn(2, 1, 28, 28)
    assert nn.Conv2d(1, 4, 5, stride=2, padding="same")(x).shape == (2, 4, 14, 14)
    assert nn.Conv2d(1, 4, 3, stride=2, padding="same")(mg.randn(1, 1, 7, 7)).shape == (1, 4, 4, 4)
    assert nn.ConvTranspose2d(4, 1, 5, stride=2, padding="same")(mg.randn(2, 4, 7, 7)).shape == (2, 1, 14, 14)
    assert nn.Conv2d(1, 4, 3, padding="valid")(x).shape == (2, 4, 26, 26)
