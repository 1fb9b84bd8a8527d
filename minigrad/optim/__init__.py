"""Optimizers with PyTorch's names and update rules, and WGAN weight clipping."""
from .adam import Adam
from .constraints import clip_weights_
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adam", "Optimizer", "RMSprop", "SGD", "clip_weights_"]
