"""The public API stays what it was before ops declared their own exports (issue 11, item 5).

The tables list every public name of ``minigrad``, ``minigrad.nn.functional`` and
``minigrad.Tensor`` as they stood before ``@export``, with each callable's parameters
(annotations left out; a method without its ``self``). ``None`` marks a name that only has
to exist: a module, a dtype, a property, a class attribute.
"""
import inspect

import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import ops
from minigrad.ops._export import EXPORTED

MINIGRAD = {
    'Function': None,  # its constructor belongs to the autograd core, not to this list
    'Generator': '(seed=None, device=None)',
    'Tensor': '(*data, requires_grad=False)',
    'abs': '(a)',
    'add': '(a, b)',
    'amax': '(x, dim=None, keepdim=False)',
    'amin': '(x, dim=None, keepdim=False)',
    'arange': '(start, end=None, step=1, dtype=None, requires_grad=False, device=None)',
    'argmax': '(x, dim=None, keepdim=False)',
    'as_tensor': '(data, dtype=None, device=None)',
    'autograd': None,
    'backends': None,
    'bool': None,
    'broadcast_to': '(x, shape)',
    'cat': '(tensors, dim=0)',
    'clamp': '(a, min=None, max=None)',
    'clip': '(a, min=None, max=None)',
    'concatenate': '(tensors, dim=0)',
    'div': '(a, b)',
    'empty': '(*shape, dtype=None, requires_grad=False, device=None)',
    'enable_grad': '(func=None)',
    'exp': '(a)',
    'expand': '(x, *shape)',
    'flatten': '(x, start_dim=0, end_dim=-1)',
    'float16': None,
    'float32': None,
    'float64': None,
    'from_numpy': '(array)',
    'full': '(shape, fill_value, dtype=None, requires_grad=False, device=None)',
    'full_like': '(t, fill_value, dtype=None, requires_grad=False, device=None)',
    'grad': ('(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, '
             'only_inputs=True, allow_unused=False)'),
    'gradcheck': ('(fn, inputs, eps=1e-06, atol=1e-05, rtol=0.001, fast_mode=False, '
                  'raise_exception=True, seed=0)'),
    'gradcheck_order': ('(fn, inputs, order=3, eps=1e-06, atol=1e-05, rtol=0.001, '
                        'fast_mode=False, raise_exception=True, seed=0)'),
    'gradgradcheck': ('(fn, inputs, grad_outputs=None, eps=1e-06, atol=1e-05, rtol=0.001, '
                      'fast_mode=False, raise_exception=True, seed=0)'),
    'int32': None,
    'int64': None,
    'is_grad_enabled': '()',
    'linspace': '(start, end, steps, dtype=None, requires_grad=False, device=None)',
    'load': '(path, device=None)',
    'log': '(a)',
    'logsumexp': '(x, dim, keepdim=False)',
    'manual_seed': '(seed)',
    'matmul': '(a, b)',
    'max': '(x, dim=None, keepdim=False)',
    'maximum': '(a, other)',  # was (a, b): now the object Tensor.maximum(other) is, torch's name
    'mean': '(x, dim=None, keepdim=False)',
    'min': '(x, dim=None, keepdim=False)',
    'minimum': '(a, other)',  # was (a, b), as maximum
    'mul': '(a, b)',
    'neg': '(a)',
    'nn': None,
    'no_grad': '(func=None)',
    'norm': '(x, p=2, dim=None, keepdim=False)',
    'ones': '(*shape, dtype=None, requires_grad=False, device=None)',
    'ones_like': '(t, dtype=None, requires_grad=False, device=None)',
    'ops': None,
    'optim': None,
    'permute': '(x, *dims)',
    'pow': '(a, exponent)',
    'rand': '(*shape, generator=None, dtype=None, requires_grad=False, device=None)',
    'rand_like': '(t, generator=None, dtype=None, requires_grad=False, device=None)',
    'randint': "(low, high=None, size=(), generator=None, dtype='int64', device=None)",
    'randn': '(*shape, generator=None, dtype=None, requires_grad=False, device=None)',
    'randn_like': '(t, generator=None, dtype=None, requires_grad=False, device=None)',
    'random': None,
    'relu': '(a)',
    'reshape': '(x, *shape)',
    'rsqrt': '(a)',
    'save': '(obj, path)',
    'serialization': None,
    'set_grad_enabled': '(mode)',
    'sigmoid': '(a)',
    'sign': '(a)',
    'sqrt': '(a)',
    'squeeze': '(x, dim=None)',
    'stack': '(tensors, dim=0)',
    'std': '(x, dim=None, unbiased=True, keepdim=False, correction=None)',
    'sub': '(a, b)',
    'sum': '(x, dim=None, keepdim=False)',
    'tanh': '(a)',
    'tensor': '(data, dtype=None, requires_grad=False, device=None)',
    'transpose': '(x, dim0, dim1)',
    'uint8': None,
    'unsqueeze': '(x, dim)',
    'var': '(x, dim=None, unbiased=True, keepdim=False, correction=None)',
    'where': '(condition, a, b)',
    'zeros': '(*shape, dtype=None, requires_grad=False, device=None)',
    'zeros_like': '(t, dtype=None, requires_grad=False, device=None)',
}
FUNCTIONAL = {
    'Tensor': '(*data, requires_grad=False)',
    'annotations': None,
    'avg_pool2d': '(x, kernel_size, stride=None, padding=0, count_include_pad=True)',
    'batch_norm': ('(x, running_mean, running_var, weight=None, bias=None, '
                   'training=False, momentum=0.1, eps=1e-05)'),
    'binary_cross_entropy': "(input, target, weight=None, reduction='mean')",
    'binary_cross_entropy_with_logits': "(input, target, weight=None, reduction='mean')",
    'conv2d': '(x, weight, bias=None, stride=1, padding=0, dilation=1)',
    'conv_transpose2d': '(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1)',
    'cross_entropy': "(input, target, reduction='mean')",
    'dropout': '(x, p=0.5, training=True, generator=None)',
    'elu': '(x, alpha=1.0)',
    'embedding': '(input, weight)',
    'gradient_penalty': '(critic, real, fake, generator=None, center=1.0, eps=1e-12, return_norms=False)',
    'interpolate': "(x, size=None, scale_factor=None, mode='nearest')",
    'l1_loss': "(input, target, reduction='mean')",
    'layer_norm': '(x, normalized_shape, weight=None, bias=None, eps=1e-05)',
    'leaky_relu': '(x, negative_slope=0.01)',
    'linear': '(x, weight, bias=None)',
    'log_softmax': '(x, dim)',
    'matmul': '(a, b)',
    'max_pool2d': '(x, kernel_size, stride=None, padding=0, return_indices=False)',
    'mse_loss': "(input, target, reduction='mean')",
    'pad': "(x, pad, mode='constant', value=0.0)",
    'relu': '(a)',
    'reshape': '(x, *shape)',
    'safe_norm': '(x, dim=None, eps=1e-12)',
    'sigmoid': '(a)',
    'softmax': '(x, dim)',
    'softplus': '(x, beta=1.0, threshold=20.0)',
    'tanh': '(a)',
    'transpose': '(x, dim0, dim1)',
}
TENSOR = {
    'T': None,
    '__abs__': '()',
    '__add__': '(other)',
    '__array_priority__': None,
    '__bool__': '()',
    '__eq__': '(other)',
    '__float__': '()',
    '__ge__': '(other)',
    '__getitem__': '(index)',
    '__gt__': '(other)',
    '__hash__': '()',
    '__init__': '(*data, requires_grad=False)',
    '__int__': '()',
    '__le__': '(other)',
    '__len__': '()',
    '__lt__': '(other)',
    '__matmul__': '(other)',
    '__mul__': '(other)',
    '__ne__': '(other)',
    '__neg__': '()',
    '__pos__': '()',
    '__pow__': '(other)',
    '__radd__': '(other)',
    '__repr__': '()',
    '__rmatmul__': '(other)',
    '__rmul__': '(other)',
    '__rpow__': '(other)',
    '__rsub__': '(other)',
    '__rtruediv__': '(other)',
    '__sub__': '(other)',
    '__truediv__': '(other)',
    'abs': '()',
    'amax': '(dim=None, keepdim=False)',
    'amin': '(dim=None, keepdim=False)',
    'argmax': '(dim=None, keepdim=False)',
    'astype': '(dtype)',
    'backward': '(gradient=None, retain_graph=None, create_graph=False)',
    'clamp': '(min=None, max=None)',
    'clip': '(min=None, max=None)',
    'clone': '()',
    'contiguous': '()',
    'cpu': '()',
    'cuda': '(device=None)',
    'data': None,
    'detach': '()',
    'detach_': '()',
    'device': None,
    'dim': '()',
    'double': '()',
    'dtype': None,
    'exp': '()',
    'expand': '(*shape)',
    'expand_as': '(other)',
    'flatten': '(start_dim=0, end_dim=-1)',
    'float': '()',
    'is_leaf': None,
    'item': '()',
    'log': '()',
    'logsumexp': '(dim, keepdim=False)',
    'long': '()',
    'max': '(dim=None, keepdim=False)',
    'maximum': '(other)',
    'mean': '(dim=None, keepdim=False)',
    'min': '(dim=None, keepdim=False)',
    'minimum': '(other)',
    'ndim': None,
    'norm': '(p=2, dim=None, keepdim=False)',
    'numel': '()',
    'numpy': '()',
    'permute': '(*dims)',
    'pow': '(exponent)',
    'relu': '()',
    'requires_grad_': '(requires_grad=True)',
    'reshape': '(*shape)',
    'rsqrt': '()',
    'shape': None,
    'sigmoid': '()',
    'sign': '()',
    'size': '(dim=None)',
    'sqrt': '()',
    'squeeze': '(dim=None)',
    'std': '(dim=None, unbiased=True, keepdim=False, correction=None)',
    'sum': '(dim=None, keepdim=False)',
    'tanh': '()',
    'to': '(*args, device=None, dtype=None)',
    'to_dtype': '(dtype)',
    'tolist': '()',
    'transpose': '(dim0, dim1)',
    'unsqueeze': '(dim)',
    'var': '(dim=None, unbiased=True, keepdim=False, correction=None)',
    'view': '(*shape)',
    # issue 13: torch's in-place methods and Tensor.type
    '__iadd__': '(other, *, alpha=1)',
    '__imul__': '(other)',
    '__isub__': '(other, *, alpha=1)',
    '__itruediv__': '(other)',
    'add_': '(other, *, alpha=1)',
    'clamp_': '(min=None, max=None)',
    'clip_': '(min=None, max=None)',
    'copy_': '(src)',
    'div_': '(other)',
    'fill_': '(value)',
    'mul_': '(other)',
    'normal_': '(mean=0.0, std=1.0, *, generator=None)',
    'sub_': '(other, *, alpha=1)',
    'type': '(dtype=None)',
    'uniform_': '(from_=0.0, to=1.0, *, generator=None)',
    'zero_': '()',
}
FUNCTIONAL_ALL = [
    'avg_pool2d', 'batch_norm', 'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'conv2d',
    'conv_transpose2d', 'cross_entropy', 'dropout', 'elu', 'embedding', 'gradient_penalty', 'interpolate',
    'l1_loss', 'layer_norm', 'leaky_relu', 'linear', 'log_softmax', 'max_pool2d', 'mse_loss', 'pad', 'relu', 'safe_norm',
    'sigmoid', 'softmax', 'softplus', 'tanh'
]


def _parameters(obj, drop_self: bool) -> str:
    sig = inspect.signature(obj)
    params = list(sig.parameters.values())[1 if drop_self else 0:]
    return str(sig.replace(parameters=[p.replace(annotation=inspect.Parameter.empty) for p in params],
                           return_annotation=inspect.Signature.empty))


@pytest.mark.parametrize("namespace, table, is_method", [
    (minigrad, MINIGRAD, False), (F, FUNCTIONAL, False), (minigrad.Tensor, TENSOR, True),
], ids=["minigrad", "nn.functional", "Tensor"])
def test_every_public_name_is_still_there_with_its_parameters(namespace, table, is_method):
    missing = [name for name in table if not hasattr(namespace, name)]
    assert not missing, f"{namespace.__name__} lost {missing}"
    changed = {}
    for name, expected in table.items():
        if expected is None:
            continue
        static = inspect.getattr_static(namespace, name)
        drop_self = is_method and not isinstance(static, (staticmethod, classmethod))
        got = _parameters(getattr(namespace, name), drop_self)
        if got != expected:
            changed[name] = (expected, got)
    assert not changed, f"parameters changed in {namespace.__name__}: {changed}"


def test_functional_all_is_unchanged():
    assert sorted(F.__all__) == FUNCTIONAL_ALL


def _exported_functions():
    """(module, name, function) for each op declared with ``@export`` in its own family."""
    return [(family.__name__, name, fn) for family in ops.FAMILIES
            for name, fn in vars(family).items()
            if hasattr(fn, EXPORTED) and fn.__module__ == family.__name__]


def test_every_exported_op_has_a_docstring():
    exported = _exported_functions()
    assert len(exported) > 50
    for module, name, fn in exported:
        assert fn.__doc__ and fn.__doc__.strip(), f"{module}.{name} has no docstring"


def test_a_method_is_its_functional_form_not_a_wrapper():
    """No call layer is added: ``Tensor.exp is minigrad.exp`` and the method's module is its op's."""
    for _, _, fn in _exported_functions():
        declared = getattr(fn, EXPORTED)
        for method in declared["method"]:
            assert vars(minigrad.Tensor)[method] is fn, f"Tensor.{method}"
        for name in declared["top"]:
            assert getattr(minigrad, name) is fn, f"minigrad.{name}"
        for name in declared["functional"]:
            assert getattr(F, name) is fn, f"nn.functional.{name}"
    assert minigrad.Tensor.exp is minigrad.exp
    assert minigrad.Tensor.exp.__module__ == "minigrad.ops.elementwise"
    assert minigrad.Tensor.view is minigrad.reshape and minigrad.clip is minigrad.clamp


def test_export_rejects_a_declaration_it_cannot_honour():
    from minigrad.ops._export import export

    def undocumented(a):
        return a

    def documented(a):
        """A stand-in op."""
        return a

    with pytest.raises(TypeError, match="undocumented needs a docstring"):
        export(top=True)(undocumented)
    with pytest.raises(TypeError, match="Tensor.exp is already defined"):
        export(method=("exp",))(documented)
    with pytest.raises(TypeError, match=r"export\(top=...\) on documented: expected True, False or a tuple"):
        export(top="documented")(documented)
    assert not hasattr(minigrad.Tensor, "documented")
