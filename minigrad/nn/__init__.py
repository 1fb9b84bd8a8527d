"""Neural-network layers with PyTorch's names: ``Module``, ``Parameter``, layers, losses,
``functional`` (``F``), ``init``, ``utils`` (gradient clipping) and ``parallel``."""
from . import functional, init, parallel, utils
from .activation import Dropout, LeakyReLU, ReLU, Sigmoid, Tanh
from .container import Sequential
from .conv import Conv2d, ConvTranspose2d
from .linear import Embedding, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss
from .module import Module, Parameter
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .parallel import DataParallel
from .shape import Flatten, MaxPool2d, Unflatten, Upsample

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d",
    "CrossEntropyLoss", "DataParallel", "Dropout", "Embedding", "Flatten", "L1Loss", "LayerNorm",
    "LeakyReLU", "Linear", "MSELoss", "MaxPool2d", "Module", "Parameter", "ReLU", "Sequential",
    "Sigmoid", "Tanh", "Unflatten", "Upsample", "functional", "init", "parallel", "utils",
]
