"""WGAN / WGAN-GP training on MNIST with the minigrad autodiff engine."""
