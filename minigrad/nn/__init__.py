"""Neural-network layers with PyTorch's names: ``Module``, ``Parameter``, layers,
``functional`` (``F``) and ``init``."""
from . import functional, init, utils
from .activation import Dropout, LeakyReLU, ReLU, Sigmoid, Tanh
from .container import Sequential
from .conv import Conv2d, ConvTranspose2d
from .linear import Embedding, Linear
from .module import Module, Parameter
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .shape import Flatten, MaxPool2d, Unflatten, Upsample

__all__ = [
    "BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "Dropout", "Embedding", "Flatten",
    "LayerNorm", "LeakyReLU", "Linear", "MaxPool2d", "Module", "Parameter", "ReLU", "Sequential",
    "Sigmoid", "Tanh", "Unflatten", "Upsample", "functional", "init", "utils",
]
