"""``minigrad.nn.utils``: helpers over many parameters at once, as ``torch.nn.utils``: the
total norm of many tensors, gradient clipping."""
from .clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]
