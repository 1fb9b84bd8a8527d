"""A stand-in for ``torch.backends.cudnn``, so that scripts setting ``cudnn.benchmark = True``
run unchanged. minigrad does not use cuDNN (its GPU convolutions are its own kernels and
CuPy's), so these settings change nothing and ``is_available()`` is False."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """Whether minigrad uses cuDNN: never."""
    return False


def version() -> None:
    """torch gives cuDNN's version; minigrad links none."""
    return None
