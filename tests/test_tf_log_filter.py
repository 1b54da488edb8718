"""TensorFlow's known start-up lines go to a log file; every other line still reaches stderr."""

import subprocess
import sys

NOISE = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
         "I0000 00:00:17.33 42 port.cc:153] oneDNN custom operations are on. You may see ...",
         "E0000 00:00:17.35 42 meta_optimizer.cc:967] remapper failed: INVALID_ARGUMENT: "
         "Mutation::Apply error: fanout 'x' exist for missing node 'y'.")
REAL = ("E0000 00:00:17.40 42 bfc_allocator.cc:1] Allocator ran out of memory",
        "a line from some other C library")


def test_noise_goes_to_the_log_and_real_lines_pass(tmp_path):
    log = tmp_path / "logs" / "tensorflow.log"
    lines = [NOISE[0], REAL[0], NOISE[1], NOISE[2], REAL[1]]
    script = (
        "import os, sys\n"
        "from my_AE_code.tf_log_filter import filter_tf_noise\n"
        f"filter_tf_noise({str(log)!r})\n"
        f"for line in {lines!r}:\n"
        "    os.write(2, (line + '\\n').encode())\n"
        "print('stdout untouched')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout == "stdout untouched\n"
    assert done.stderr.splitlines() == list(REAL)
    assert log.read_text().splitlines() == list(NOISE)
