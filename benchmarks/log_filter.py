"""Does the filter of TensorFlow's C++ log lines slow training? (notebook_setup installs it)

    python -m benchmarks.log_filter [--rounds 3] [--epochs 4]

Each round starts two fresh processes in turn, one that installs the filter
before importing TensorFlow (as ``setup_notebook`` does) and one that does
not, and each trains post VI's MNIST VAE for a few epochs on the same random
images. Printed: the median epoch time (after the first) of each process, per
round, and the ratio with the spread between rounds (`my_AE_code.timing`).
"""

import argparse
import json
import subprocess
import sys
import tempfile

from my_AE_code.timing import compare

TRAIN = """
import json, os, sys
if sys.argv[1] == "filtered":
    from my_AE_code.tf_log_filter import filter_tf_noise
    filter_tf_noise(sys.argv[3])
import numpy as np
from my_AE_code.callbacks import EpochTimer
from my_AE_code.models import MyVariationalAutoencoder
from my_AE_code.models.layouts import MNIST_LAYOUT
vae = MyVariationalAutoencoder(**MNIST_LAYOUT, seed=0)
vae.compile_myVAE(0.0005)
timer = EpochTimer()
images = np.random.default_rng(0).random((2048, 28, 28, 1), dtype=np.float32)
vae.train_myVAE(images, 128, epochs=int(sys.argv[2]), verbose=0, callbacks=[timer])
print(json.dumps(timer.steady))
"""


def epoch_seconds(variant, epochs, log_file):
    done = subprocess.run([sys.executable, "-c", TRAIN, variant, str(epochs), log_file],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args(argv)
    seconds = {"filtered": [], "plain": []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for variant in seconds:
                seconds[variant].append(epoch_seconds(variant, args.epochs, f"{tmp}/tf.log"))
            print(f"round {round_ + 1}: " + ", ".join(
                f"{name} {values[-1]:.2f} s/epoch" for name, values in seconds.items()),
                  flush=True)
    print(compare(seconds, "filtered", "plain"))
    return seconds


if __name__ == "__main__":
    main()
