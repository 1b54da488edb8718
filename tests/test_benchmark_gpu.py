"""`make gpu-check` without a GPU: it says so, runs the same code briefly, and exits 0."""

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks import gpu
from helpers import ROOT


def test_without_a_gpu_it_says_so_and_writes_its_table(tmp_path):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "VAE_RESULTS_DIR": str(tmp_path)}
    child = subprocess.run([sys.executable, "-m", "benchmarks.gpu"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=600)
    assert child.returncode == 0, child.stderr[-3000:]
    assert "No GPU found" in child.stdout
    report = json.loads((tmp_path / "gpu_check_cpu.json").read_text())
    assert report["gpu"] is None and report["quick"] is True
    assert not (tmp_path / "gpu_check.json").exists()  # a GPU's table is never overwritten
    expected = {gpu.variant_name(model, policy, jit) for model in gpu.MODELS
                for policy in gpu.PRECISIONS for jit in (False, True)}
    assert set(report["training"]) == expected and len(expected) == 8
    for row in report["training"].values():
        assert row["samples_per_s"] > 0 and len(row["seconds"]) == gpu.CPU_RUN.rounds
    assert set(report["input"]) == {"stream", "memory", "disk"}
    assert all(row["images_per_s"] > 0 for row in report["input"].values())
    assert report["notebooks"] == {}
    for name in expected:  # the printed table has a row for each
        assert "train " + name in child.stdout


def test_the_notebooks_run_in_the_main_budget(monkeypatch, tmp_path):
    from my_AE_code import run_notebooks

    monkeypatch.setenv("VAE_RESULTS_DIR", str(tmp_path))
    calls = []

    def fake_run(path, out_dir, budget):
        calls.append((Path(path).name, budget))
        return run_notebooks.NotebookRun(Path(path).stem, 1.0, Path(out_dir) / path.name,
                                         tmp_path / "log")

    monkeypatch.setattr(run_notebooks, "run_notebook", fake_run)
    runs = gpu.run_notebooks(gpu.NOTEBOOKS)
    assert [name[:2] for name, _ in calls] == ["10", "14"]
    assert {budget for _, budget in calls} == {"main"}
    assert all(run["ok"] for run in runs.values())
