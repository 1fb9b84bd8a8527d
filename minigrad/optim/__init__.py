"""Optimizers with PyTorch's names and update rules, learning-rate schedules
(``lr_scheduler``), and WGAN weight clipping."""
from . import lr_scheduler
from .adam import Adam
from .constraints import clip_weights_
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adam", "Optimizer", "RMSprop", "SGD", "clip_weights_", "lr_scheduler"]
