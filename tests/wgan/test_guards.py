"""wgan.guards: the divergence bound on losses, critic scores and parameters."""
import math

import minigrad
from minigrad import nn
from wgan import guards


def test_losses_and_scores_beyond_the_bound_are_named():
    record = {"step": 3, "critic_iters": 100, "sec_per_step": 2e9, "critic_grad_norm": 5e8,
              "d_real": 1.0, "critic_loss": -2.0, "generator_loss": 7e15}
    assert guards.beyond_bound(record, 1e6) == ("generator_loss", 7e15)
    assert guards.beyond_bound(dict(record, generator_loss=-1e6), 1e6) is None  # at the bound
    assert guards.beyond_bound(dict(record, generator_loss=1.0, wasserstein=-3e6), 1e6) == (
        "wasserstein", -3e6)
    assert guards.beyond_bound(dict(record, generator_loss=math.nan), 1e6) is None  # NaN guard's
    assert guards.beyond_bound(record, math.inf) is None


def test_largest_parameter_over_networks():
    minigrad.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    net[1].weight.data[1, 2] = -2.5e7
    assert guards.largest_parameter(net.named_parameters()) == ("1.weight", 2.5e7)
    assert guards.largest_parameter([]) == ("", 0.0)
