"""Timing training runs against each other on a shared, noisy machine.

Timing one model's epochs and then the other's lets the machine's changing
load look like a difference between the models. `interleaved_seconds` takes
turns instead: one epoch of each model per round, several rounds, after one
untimed epoch each (it traces the training step). `compare` states a ratio of
the medians only as a difference when it exceeds the spread between rounds.
"""

import statistics
import time
from dataclasses import dataclass


def interleaved_seconds(runs, rounds):
    """{name: [seconds of each timed round]} for ``runs``, a {name: run_one_epoch} dict."""
    for run in runs.values():
        run()
    seconds = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    return seconds


@dataclass(frozen=True)
class Comparison:
    """How much slower ``slow`` ran than ``fast``, and whether that exceeds the noise."""

    slow: str
    fast: str
    ratio: float
    spread: float

    @property
    def real(self):
        """True when the ratio (either way) exceeds the largest max/min ratio of a run's rounds."""
        return max(self.ratio, 1 / self.ratio) > self.spread

    def __str__(self):
        if self.spread == float("inf"):
            return (f"{self.slow} / {self.fast}: {self.ratio:.2f} (one round each: too few to "
                    f"tell a difference from the noise)")
        verdict = "a real difference" if self.real else "within the noise"
        return (f"{self.slow} / {self.fast}: {self.ratio:.2f} ({verdict}: the rounds of one run "
                f"differ by up to {self.spread:.2f}x)")


def compare(seconds, slow, fast):
    """Compare two runs of `interleaved_seconds` by their median seconds.

    With a single round in either run there is no spread to measure: it is
    infinite, so no ratio counts as real.
    """
    ratio = statistics.median(seconds[slow]) / statistics.median(seconds[fast])
    spread = max(max(seconds[name]) / min(seconds[name]) if len(seconds[name]) > 1
                 else float("inf") for name in (slow, fast))
    return Comparison(slow, fast, ratio, spread)
