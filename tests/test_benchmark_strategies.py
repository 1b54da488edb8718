"""The benchmark times its variants in interleaved rounds and states a ratio only beyond noise."""

import pytest

from benchmarks import strategies
from benchmarks.strategies import Runner, Variant, ratio_to_fastest, spread


def test_spread_is_the_slowest_round_over_the_fastest():
    assert spread([1.0, 1.2, 1.1, 0.8, 1.0]) == pytest.approx(1.5)


def test_a_ratio_is_stated_only_when_it_exceeds_the_rounds_spread():
    seconds = {"fast": [1.0, 1.02, 1.0], "slow": [1.2, 1.22, 1.2], "noisy": [1.2, 0.9, 1.5],
               "close": [1.01, 1.01, 1.01]}
    assert ratio_to_fastest(seconds, "fast", "fast") == "1.00"
    assert ratio_to_fastest(seconds, "slow", "fast") == "1.20"
    assert ratio_to_fastest(seconds, "noisy", "fast") == "within noise"
    assert ratio_to_fastest(seconds, "close", "fast") == "within noise"


def test_a_variant_is_built_once_on_its_untimed_first_epoch():
    events = []

    def build():
        events.append("build")
        return Runner(epoch=lambda: events.append("epoch"), flops=1.0)

    variant = Variant(build)
    assert events == [] and variant.runner is None  # nothing built before its turn
    variant()
    assert events == ["build", "epoch"] and variant.peak_mib is not None
    variant()
    variant()
    assert events == ["build", "epoch", "epoch", "epoch"]


def test_benchmark_runs_interleaved_rounds_end_to_end(monkeypatch, capsys):
    """One-step epochs of the AE and strategy 3 in MNIST layout, two timed rounds."""
    monkeypatch.setattr(strategies.flops, "matmul_flops_per_second", lambda: 1e10)
    result = strategies.main(["--batch-size", "16", "--steps", "1", "--rounds", "2",
                              "--only", "AE", "solution_type 3"])
    assert set(result) == {"AE", "solution_type 3"}
    for timing in result.values():
        assert len(timing["seconds"]) == 2
        assert timing["spread"] >= 1.0 and timing["median"] > 0
    table = capsys.readouterr().out
    assert "x fastest" in table and "solution_type 3" in table


def test_fewer_than_two_rounds_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        strategies.main(["--rounds", "1"])
    assert exit_.value.code == 2  # argparse's usage error, before anything is built or timed
    assert "--rounds must be at least 2: the spread between rounds is the noise." in \
        capsys.readouterr().err
