"""Interleaved timing takes turns, and a ratio is a difference only beyond the rounds' spread."""

from my_AE_code.timing import compare, interleaved_seconds


def test_runs_take_turns_after_one_untimed_run_each():
    calls = []
    seconds = interleaved_seconds({"a": lambda: calls.append("a"),
                                   "b": lambda: calls.append("b")}, rounds=3)
    assert calls == ["a", "b"] * 4  # the warm-up round, then three timed rounds
    assert [len(values) for values in seconds.values()] == [3, 3]


def test_a_ratio_counts_only_beyond_the_spread():
    steady = {"slow": [2.0, 2.1, 2.0], "fast": [1.0, 1.05, 1.0]}
    assert compare(steady, "slow", "fast").ratio == 2.0
    assert compare(steady, "slow", "fast").real
    noisy = {"slow": [2.0, 1.0, 2.5], "fast": [1.0, 1.6, 2.2]}
    assert not compare(noisy, "slow", "fast").real  # rounds differ by 2.5x
    assert "within the noise" in str(compare(noisy, "slow", "fast"))


def test_one_round_each_is_never_called_a_difference():
    single = {"slow": [3.0], "fast": [1.0]}
    comparison = compare(single, "slow", "fast")
    assert comparison.ratio == 3.0 and not comparison.real
    assert str(comparison) == ("slow / fast: 3.00 (one round each: too few to tell a difference "
                               "from the noise)")
