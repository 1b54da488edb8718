"""Peak memory on the CPU: the rise of the resident set since `reset_peak`, not its level."""

import numpy as np
import pytest

from my_AE_code import memory


def test_the_peak_counts_what_was_allocated_since_the_reset_and_only_that():
    if memory.memory_kind() != "RSS rise":
        pytest.skip("with a GPU the figure is the GPU allocator's peak, another test's matter")
    memory.reset_peak()
    block = np.ones(256 * 2**20 // 8)  # 256 MiB, every page written
    assert memory.peak_mib() >= 250
    del block
    assert memory.peak_mib() >= 250  # a peak stays after the memory is freed

    memory.reset_peak()  # what the process holds now, models built earlier, no longer counts
    assert memory.peak_mib() < 64
