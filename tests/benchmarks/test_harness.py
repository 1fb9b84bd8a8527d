"""The benchmark harness keeps working: it runs end to end on tiny sizes, writes its results,
and its agreement gate refuses to time computations that differ. No timing is asserted."""
from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import agreement, harness
from kernels import threads

try:
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
TINY = ["--dim", "8", "--batch-sizes", "4", "--repeats", "1", "--warmup", "0"]


@pytest.fixture
def isolated(monkeypatch):
    """main() pins the thread variables and torch's thread count: undo both afterwards."""
    for name in threads.THREAD_VARIABLES:
        monkeypatch.setenv(name, "1")
    before = torch.get_num_threads() if torch is not None else None
    yield
    if torch is not None:
        torch.set_num_threads(before)


def _results(out):
    files = sorted(p.name for p in out.iterdir()) if out.exists() else []
    return files


@needs_torch
def test_step_runs_on_tiny_sizes_and_writes_json_markdown_and_chart(tmp_path, isolated):
    from benchmarks import step

    status = step.main([*TINY, "--only", "critic-gp", "--no-memory", "--machine-kind", "test",
                        "--out", str(tmp_path)])

    assert status == 0
    stems = {p.rsplit(".", 1)[0] for p in _results(tmp_path)}
    assert len(stems) == 1 and stems.pop().startswith("step_test_")
    result = json.loads(next(tmp_path.glob("*.json")).read_text())
    (row,) = result["rows"]
    assert (row["name"], row["batch"]) == ("critic-gp", 4)
    assert row["ratio"] > 0 and len(row["minigrad"]["samples_s"]) == 1
    assert set(result["agreement"]["worst"]) == {"float32", "float64"}
    assert all(c["ok"] for c in result["agreement"]["comparisons"])
    assert result["machine"]["openblas"].get("corename") or result["machine"]["openblas"]["note"]
    assert "| critic-gp | 4 |" in next(tmp_path.glob("*.md")).read_text()


def test_memory_child_measures_one_framework_in_a_fresh_process():
    from benchmarks import step

    args = harness.parse_args(step.SUITE, [*TINY, "--memory-iterations", "1"])
    case = next(c for c in step.SUITE.cases(harness.config_of(args)) if c.name == "generator")

    memory = harness.measure_memory(step.SUITE, args, case, "minigrad")

    assert memory.get("peak_reset") is True, memory
    assert 0 <= memory["growth_mib"] <= memory["peak_rss_mib"]


@needs_torch
def test_ops_runs_forward_backward_double_backward_and_optimizer_rows(tmp_path, isolated):
    from benchmarks import ops

    status = ops.main([*TINY, "--only", "conv2d 8->16", "--only", "adam step (critic",
                       "--no-memory", "--out", str(tmp_path)])

    assert status == 0
    result = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert [r["name"] for r in result["rows"]] == [
        "conv2d 8->16 14->7 / fwd", "conv2d 8->16 14->7 / bwd", "conv2d 8->16 14->7 / 2bwd",
        "adam step (critic params)"]


@needs_torch
def test_gate_refuses_a_deliberate_mismatch_and_writes_nothing(tmp_path, isolated, capsys):
    from benchmarks import step

    status = step.main([*TINY, "--only", "generator", "--inject-mismatch", "--no-memory",
                        "--out", str(tmp_path)])

    assert status == harness.EXIT_MISMATCH
    assert _results(tmp_path) == []
    assert "REFUSED" in capsys.readouterr().err


@needs_torch
def test_pytorch_same_transposed_conv_matches_minigrad_and_the_naive_padding_does_not():
    from benchmarks.frameworks import MinigradFramework, TorchFramework

    mg, pt = MinigradFramework(), TorchFramework()
    a = mg.place(mg.same_conv_transpose2d(6, 3, 5, 2), "float64")
    b = pt.place(pt.same_conv_transpose2d(6, 3, 5, 2), "float64")
    pt.load_weights(b, mg.weights(a))
    x = np.random.default_rng(0).standard_normal((2, 6, 7, 7))

    ours, theirs = mg.to_numpy(a(mg.tensor(x))), pt.to_numpy(b(pt.tensor(x)))
    naive = torch.nn.functional.conv_transpose2d(torch.from_numpy(x), b.weight, b.bias, 2,
                                                 padding=2, output_padding=1)

    assert ours.shape == theirs.shape == tuple(naive.shape) == (2, 3, 14, 14)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    assert np.abs(ours - naive.detach().numpy()).max() > 1e-3


def test_comparison_floors_exact_zeros_at_a_fraction_of_the_group_scale():
    ref = {"grad/critic/w": np.array([1.0, -2.0]), "grad/critic/b": np.array([0.0])}
    ours = {"grad/critic/w": np.array([1.0, -2.0 + 2e-7]), "grad/critic/b": np.array([1e-9])}

    errors = {c.quantity: c.error for c in agreement.compare("row", "float32", ours, ref)}

    assert errors["grad/critic/w"] == pytest.approx(1e-7)
    assert errors["grad/critic/b"] == pytest.approx(1e-9 / (agreement.FLOOR_FRACTION * 2.0))
    agreement.gate(agreement.compare("row", "float32", ours, ref))
    with pytest.raises(agreement.AgreementError, match="grad/critic/w"):
        agreement.gate(agreement.compare("row", "float64", ours, ref))


def test_an_ill_conditioned_float32_row_is_judged_by_accuracy_against_float64():
    rng = np.random.default_rng(0)
    truth = {"grad/critic/w": rng.standard_normal(1000)}
    noise = {k: 1e-3 * rng.standard_normal(v.shape) for k, v in truth.items()}
    pytorch = {k: v + noise[k] for k, v in truth.items()}
    as_accurate = {k: v - noise[k] for k, v in truth.items()}
    far_worse = {k: v + 100 * noise[k] for k, v in truth.items()}

    assert not all(c.ok for c in agreement.compare("row", "float32", as_accurate, pytorch))
    agreement.gate(agreement.compare_to_reference("row", "float32", as_accurate, pytorch, truth))
    with pytest.raises(agreement.AgreementError, match="normwise"):
        agreement.gate(agreement.compare_to_reference("row", "float32", far_worse, pytorch, truth))


def test_missing_and_misshapen_quantities_fail_the_gate():
    failed = agreement.compare("row", "float64", {"a/b/c": np.zeros(2)}, {"a/b/c": np.zeros(3)})
    assert not failed[0].ok
    assert not agreement.compare("row", "float64", {}, {"a/b/c": np.zeros(1)})[0].ok


def test_threads_option_is_read_from_the_command_line():
    assert threads.threads_from_argv(["--threads", "3"]) == 3
    assert threads.threads_from_argv(["--quick", "--threads=5"]) == 5
    assert threads.threads_from_argv([]) == threads.DEFAULT_THREADS


def test_cupy_backend_without_a_gpu_exits_with_a_clear_message(tmp_path, isolated, capsys):
    from benchmarks.frameworks import BackendUnavailable, require_backend

    try:
        require_backend("cupy")
    except BackendUnavailable:
        pass
    else:  # pragma: no cover - only on a GPU machine
        pytest.skip("CuPy and a GPU are available here")
    from benchmarks import step

    assert step.main(["--backend", "cupy", "--out", str(tmp_path)]) == harness.EXIT_BACKEND
    assert "cupy" in capsys.readouterr().err.lower()
    assert _results(tmp_path) == []


def test_profile_and_gemm_tools_run_on_tiny_sizes(tmp_path, isolated):
    from benchmarks import blas, profile_step

    assert profile_step.main(["--dim", "8", "--batch", "4", "--iterations", "1", "--warmup", "0",
                              "--top", "3", "--out", str(tmp_path)]) == 0
    assert blas.main(["--rounds", "1", "--samples", "1", "--batch", "4", "--dim", "8",
                      "--coretypes", "default", "--machine-kind", "test",
                      "--out", str(tmp_path)]) == 0

    (profile,) = tmp_path.glob("profile_*.txt")
    assert "Conv kernel calls by shape" in profile.read_text()
    gemms = json.loads(next(tmp_path.glob("blas_*.json")).read_text())["gemms"]
    assert all(row["default"] > 0 for row in gemms.values())


def test_only_mlp_selects_the_two_mlp_rows_and_keeps_the_others_names():
    from benchmarks import step

    args = harness.parse_args(step.SUITE, [*TINY, "--only", "mlp"])
    everything = harness.parse_args(step.SUITE, TINY)

    selected = harness._select(step.SUITE.cases(harness.config_of(args)), args.only)
    names = [c.name for c in step.SUITE.cases(harness.config_of(everything))]

    assert [c.key for c in selected] == ["mlp-critic | batch 4", "mlp-generator | batch 4"]
    assert names == ["critic-gp", "generator", "critic-clip", "cycle", "mlp-critic",
                     "mlp-generator"]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mlp_rows_pass_the_agreement_gate(dtype):
    from benchmarks import step
    from benchmarks.frameworks import make_framework

    args = harness.parse_args(step.SUITE, [*TINY, "--only", "mlp", "--dtype", dtype])
    cases = harness._select(step.SUITE.cases(harness.config_of(args)), args.only)
    frameworks = {name: make_framework(name) for name in ("minigrad", "pytorch")}

    comparisons = harness.check_agreement(cases, frameworks, dtype, args.f64_batch, False)

    agreement.gate(comparisons)  # raises on a mismatch
    quantities = {c.quantity for c in comparisons}
    assert {"loss/clip_critic_loss", "grad/critic/1.weight", "grad/critic/3.bias",
            "loss/generator_loss", "grad/generator/0.weight", "grad/generator/2.bias"} <= quantities
    assert {c.dtype for c in comparisons} == ({"float32", "float64"} if dtype == "float32"
                                              else {"float64"})
    if dtype == "float64":  # after the step, and after clipping for the critic
        assert "param/critic/1.weight" in quantities


@needs_torch
def test_mlp_rows_run_from_the_command_line_and_the_gate_refuses_a_mismatch(tmp_path, isolated,
                                                                           capsys):
    from benchmarks import step

    assert step.main([*TINY, "--only", "mlp", "--no-memory", "--machine-kind", "test",
                      "--out", str(tmp_path)]) == 0
    result = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert [r["name"] for r in result["rows"]] == ["mlp-critic", "mlp-generator"]
    assert all(r["ratio"] > 0 for r in result["rows"])

    refused = tmp_path / "refused"
    assert step.main([*TINY, "--only", "mlp", "--inject-mismatch", "--no-memory",
                      "--out", str(refused)]) == harness.EXIT_MISMATCH
    assert _results(refused) == []
    assert "REFUSED" in capsys.readouterr().err


@needs_torch
def test_dispatch_times_tiny_ops_and_counts_the_ops_of_the_mlp_steps(tmp_path, isolated):
    from benchmarks import dispatch

    assert dispatch.main(["--repeats", "1", "--calls", "3", "--threads", "1",
                          "--machine-kind", "test", "--out", str(tmp_path)]) == 0

    result = json.loads(next(tmp_path.glob("dispatch_test_*.json")).read_text())
    assert [r["name"] for r in result["tiny_ops"]] == list(dispatch.TINY_OPS)
    assert all(r["ratio"] > 0 for r in result["tiny_ops"])
    counts = {c["workload"]: c for c in result["op_counts"]}
    assert set(counts) == {"mlp-critic", "mlp-generator"}
    for c in counts.values():
        assert 0 < c["forward_nodes_recorded"] <= c["forward_ops"] == sum(
            n for op, n in c["by_op"].items() if op.startswith("forward "))
        # every node of the graph runs; without create_graph the walk applies no op
        assert c["nodes_walked"] > c["forward_nodes_recorded"]
        assert c["backward_ops"] == c["backward_nodes_recorded"] == 0
    assert counts["mlp-critic"]["by_op"]["forward MatMul"] == 6  # G, D(fake), D(real): 2 each
    assert "| mlp-critic |" in next(tmp_path.glob("dispatch_test_*.md")).read_text()
