"""The base every generated project shares (templates/_base), on a rendered
project: per-epoch progress lines, DVCLive's files (and the same files
without DVCLive), the curves PNG, the best-validation weights, resuming a
training process that was really interrupted, torchrun (a CPU run, and the
guard against more processes than GPUs), git ignoring what `dvc plots show`
and checkpoints leave, and the project's own device-choice tests.

Training here uses only base files (prepare.py, cnn.py, common.py and the
modules it imports) through a small driver, so that it does not depend on any
one template's train stage.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.conftest import dvc, make_project, run

EPOCHS = 6
PARAMS = {"seed": 0, "threads": 1, "prepare": {"val": 0.15, "test": 0.15},
          "train": {"channels": 4, "epochs": EPOCHS, "lr": 0.005, "batch_size": 64}}
DRIVER = """\
from .cnn import DigitsCNN
from .common import train_stage

train_stage(lambda cfg: DigitsCNN(cfg["channels"]), "models/base.pt")
"""
LINE = re.compile(r"^train epoch +(\d+)/(\d+)  train_loss \d+\.\d{4}  val_loss \d+\.\d{4}  "
                  r"val_acc [01]\.\d{4}  \d+\.\ds( +\*)?$")
OUTPUTS = ["models/base.pt", "metrics/train.json", "dvclive/train/metrics.json",
           "dvclive/train/plots/metrics/train_loss.tsv",
           "dvclive/train/plots/metrics/val_acc.tsv"]


def train_cmd() -> list[str]:
    return [sys.executable, "-m", "proj.base_train"]


def contents(root: Path) -> dict[str, bytes]:
    return {rel: (root / rel).read_bytes() for rel in OUTPUTS}


def load_module(root: Path, monkeypatch, module: str = "common"):
    """One module of the project's package (common.py, progress.py...), in a
    package of a name of its own for this test only (nothing of it is left in
    sys.modules for other tests)."""
    import importlib.util

    name = "base_template_proj"
    spec = importlib.util.spec_from_file_location(
        name, root / "proj" / "__init__.py", submodule_search_locations=[str(root / "proj")])
    monkeypatch.setitem(sys.modules, name, importlib.util.module_from_spec(spec))
    for sub in ("stage", "devices", "progress", "common"):  # recorded as absent: removed after
        monkeypatch.setitem(sys.modules, f"{name}.{sub}", None)
        del sys.modules[f"{name}.{sub}"]
    return importlib.import_module(f"{name}.{module}")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A rendered project with the base driver, prepared data, and one
    uninterrupted training run: (root, its stdout)."""
    root = make_project("quantization", tmp_path_factory.mktemp("base"))
    (root / "proj" / "base_train.py").write_text(DRIVER, encoding="utf-8")
    (root / "params.yaml").write_text(yaml.safe_dump(PARAMS), encoding="utf-8")
    run([sys.executable, "-m", "proj.prepare"], cwd=root)
    out = run(train_cmd(), cwd=root).stdout
    return root, out


@pytest.mark.slow
def test_training_prints_one_progress_line_per_epoch(project):
    _, out = project
    lines = [line for line in out.splitlines() if line.startswith("train epoch")]
    assert [LINE.match(line) is not None for line in lines] == [True] * EPOCHS, lines
    assert [int(LINE.match(line)[1]) for line in lines] == list(range(1, EPOCHS + 1))
    assert "train: kept the weights of epoch" in out


@pytest.mark.slow
def test_the_saved_model_is_the_best_validation_epoch(project):
    root, _ = project
    rows = {}
    for name in ("val_acc", "val_loss"):
        lines = (root / f"dvclive/train/plots/metrics/{name}.tsv").read_text().split("\n")
        assert lines[0] == f"step\t{name}"
        rows[name] = {int(s): float(v) for s, v in (ln.split("\t") for ln in lines[1:] if ln)}
    assert sorted(rows["val_acc"]) == list(range(1, EPOCHS + 1))
    best = max(rows["val_acc"], key=lambda e: (rows["val_acc"][e], -rows["val_loss"][e], -e))
    kept = json.loads((root / "metrics/train.json").read_text())
    assert kept["best_epoch"] == best and kept["val_acc"] == rows["val_acc"][best]
    summary = json.loads((root / "dvclive/train/metrics.json").read_text())
    assert summary["step"] == EPOCHS and summary["val_acc"] == rows["val_acc"][EPOCHS]


@pytest.mark.slow
def test_curves_are_a_png(project):
    root, _ = project
    png = (root / "plots/train_curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 400 and height > 200


def test_without_dvclive_the_same_files_are_written(project, tmp_path, monkeypatch):
    """DVCLive, and the hand-written fallback (no DVCLive installed, or no DVC
    project), write byte-identical files."""
    root, _ = project
    progress = load_module(root, monkeypatch, "progress")

    rows = [{"train_loss": 1 / e, "train_acc": 0.5 + e / 100, "val_loss": 2 / e,
             "val_acc": 0.9} for e in range(1, 4)]
    written = {}
    for kind, writer in (("dvclive", progress._DVCLive), ("files", progress._LiveFiles)):
        folder = tmp_path / kind
        (folder / ".dvc").mkdir(parents=True)  # DVCLive looks for a DVC project
        monkeypatch.chdir(folder)
        out = writer(Path("dvclive/train"))
        for epoch, row in enumerate(rows, start=1):
            out.log(epoch, row)
        out.end()
        written[kind] = {p.relative_to(folder).as_posix(): p.read_bytes()
                         for p in sorted((folder / "dvclive").rglob("*")) if p.is_file()}
    assert written["files"] == written["dvclive"]
    assert "dvclive/train/plots/metrics/val_acc.tsv" in written["files"]


@pytest.mark.slow
def test_an_interrupted_training_process_resumes_to_the_same_result(project, tmp_path):
    root, _ = project
    copy = tmp_path / "copy"
    shutil.copytree(root, copy, symlinks=True)
    for rel in OUTPUTS:
        (copy / rel).unlink()
    proc = subprocess.Popen(train_cmd(), cwd=copy, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("train epoch 4/"):
            proc.send_signal(signal.SIGINT)  # Ctrl-C during epoch 5
            break
    rest = proc.communicate(timeout=120)[0]
    assert proc.returncode != 0, "".join(seen) + rest
    assert (copy / "checkpoints/train/last.pt").is_file()
    assert not (copy / "models/base.pt").exists()

    again = run(train_cmd(), cwd=copy).stdout
    resumed = re.search(r"resuming after epoch (\d+)/", again)
    assert resumed and int(resumed[1]) >= 3, again
    assert "train epoch 1/" not in again
    assert not (copy / "checkpoints").exists()
    assert contents(copy) == contents(root)  # the same model, metrics and curves


@pytest.mark.slow
def test_torchrun_trains_on_two_cpu_processes(project, tmp_path):
    root, _ = project
    copy = tmp_path / "copy"
    shutil.copytree(root, copy, symlinks=True)
    params = {**PARAMS, "train": {**PARAMS["train"], "epochs": 2}}
    (copy / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    # torchrun leaves torchelastic_*/pymp-* folders in TMPDIR: keep them in tmp_path.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                           "-m", "proj.base_train"], cwd=copy, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("train epoch")]
    assert len(lines) == 2  # only the main process prints
    kept = json.loads((copy / "metrics/train.json").read_text())
    assert kept["processes"] == 2 and kept["device"] == "cpu"


@pytest.mark.slow
def test_torchrun_with_more_processes_than_gpus_fails_clearly(project, tmp_path):
    """A machine with one GPU (faked in every process torchrun starts) and
    --nproc_per_node=2: a message that says what to do, not NCCL's."""
    root, _ = project
    fake = tmp_path / "fake_gpu"
    fake.mkdir()
    (fake / "sitecustomize.py").write_text(textwrap.dedent("""\
        import torch
        torch.cuda.is_available = lambda: True
        torch.cuda.device_count = lambda: 1
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake), str(root)]),
           "OMP_NUM_THREADS": "1", "TMPDIR": str(tmp_path)}
    env.pop("DLPATH_DEVICE", None)
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                           "-m", "proj.base_train"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "torchrun started 2 processes on this machine, but PyTorch sees 1 GPU(s)" in output
    assert "--nproc_per_node=1" in output
    assert "Duplicate GPU" not in output


@pytest.mark.slow
def test_git_ignores_dvc_plots_and_checkpoints(project):
    root, _ = project
    dvc("plots", "show", cwd=root)
    assert (root / "dvc_plots" / "index.html").is_file()
    (root / "checkpoints" / "train").mkdir(parents=True)
    (root / "checkpoints" / "train" / "last.pt").write_bytes(b"x")
    try:
        status = run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=root).stdout
        assert "dvc_plots" not in status and "checkpoints" not in status
        for ignored in ("dvc_plots/index.html", "checkpoints/train/last.pt"):
            run(["git", "check-ignore", "-q", ignored], cwd=root)
    finally:
        shutil.rmtree(root / "checkpoints")


@pytest.mark.slow
def test_the_projects_own_tests_cover_devices_guard_and_resume(project):
    root, _ = project
    out = run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider",
               "tests/test_common.py"], cwd=root).stdout
    for name in ("test_device_choice[1-True-cuda:0]", "test_device_choice[0-True-mps]",
                 "test_device_choice[0-False-cpu]", "test_device_can_be_forced_to_the_cpu",
                 "test_torchrun_with_more_processes_than_gpus_says_how_to_fix_it",
                 "test_deterministic_algorithms_only_inside_training",
                 "test_an_interrupted_run_resumes_and_ends_as_an_uninterrupted_one",
                 "test_a_checkpoint_of_another_run_is_not_resumed",
                 "test_a_recorded_run_writes_dvclive_files_and_a_png"):
        assert re.search(rf"{re.escape(name)} PASSED", out), (name, out[-3000:])
