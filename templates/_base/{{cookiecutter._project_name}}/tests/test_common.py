"""Tests of the shared plumbing (common.py, devices.py, progress.py): they
run in seconds, without the pipeline."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from {{ cookiecutter._package_name }} import common, data, devices


@pytest.fixture(autouse=True)
def one_thread():
    """Small models train fastest, and steadiest on a busy machine, on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def separable(n=256, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, 4)).astype(np.float32)
    return common.tensors(x, (x[:, 0] > 0).astype(np.int64))


def fit(epochs=8, **kwargs):
    """A small, fast training run (a linear model on a separable problem)."""
    common.set_seed(0)
    settings = dict(epochs=epochs, lr=0.1, batch_size=32, seed=0, dist=common.init_distributed())
    settings.update(kwargs)
    return common.train_classifier(nn.Linear(4, 2), separable(), separable(128, 1), **settings)


# ------------------------------------------------------------------- devices


@pytest.fixture
def no_forced_device(monkeypatch):
    monkeypatch.delenv(common.DEVICE_ENV, raising=False)
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(var, raising=False)


def fake_devices(monkeypatch, cuda=0, mps=False):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
    monkeypatch.setattr(devices, "_mps_available", lambda: mps)


def test_pick_device_matches_what_pytorch_sees():
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if devices._mps_available() else "cpu")
    assert common.pick_device().type == expected


@pytest.mark.parametrize("cuda, mps, expected", [
    (1, True, "cuda:0"),  # an NVIDIA GPU wins
    (0, True, "mps"),     # Apple silicon
    (0, False, "cpu"),
])
def test_device_choice(monkeypatch, no_forced_device, cuda, mps, expected):
    fake_devices(monkeypatch, cuda=cuda, mps=mps)
    assert str(common.pick_device()) == expected
    assert str(common.init_distributed().device) == expected


def test_device_can_be_forced_to_the_cpu(monkeypatch, no_forced_device):
    fake_devices(monkeypatch, cuda=1, mps=True)
    monkeypatch.setenv(common.DEVICE_ENV, "cpu")
    assert common.pick_device().type == "cpu"


def test_torchrun_with_more_processes_than_gpus_says_how_to_fix_it(monkeypatch,
                                                                   no_forced_device):
    fake_devices(monkeypatch, cuda=1)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    with pytest.raises(SystemExit) as exc:
        common.init_distributed()
    message = str(exc.value)
    assert "2 processes" in message and "1 GPU" in message
    assert "--nproc_per_node=1" in message


# ----------------------------------------------------------- seeds, data


def test_seed_makes_runs_repeatable():
    common.set_seed(3)
    first = torch.randn(5)
    common.set_seed(3)
    assert torch.equal(first, torch.randn(5))


def test_deterministic_algorithms_only_inside_training():
    common.set_seed(0)
    assert not torch.are_deterministic_algorithms_enabled()
    with common.deterministic():
        assert torch.are_deterministic_algorithms_enabled()
    assert not torch.are_deterministic_algorithms_enabled()


def test_split_round_trip(tmp_path):
    x, y = data.digits()
    assert x.shape == (1797, 1, 8, 8) and 0.0 <= x.min() and x.max() <= 1.0
    (xtr, ytr), (xva, yva), (xte, yte) = data.split(x, y, val=0.2, test=0.2, seed=0)
    assert len(xtr) + len(xva) + len(xte) == len(x)
    common.save_split(tmp_path / "s.npz", xte, yte)
    loaded = common.load_split(tmp_path / "s.npz")
    np.testing.assert_array_equal(loaded["y"], yte)


# ------------------------------------------------------------------ training


def test_training_loop_learns_and_prints_one_line_per_epoch(capsys):
    model, history = fit(epochs=8, name="toy")
    assert common.best_epoch(history)["val_acc"] > 0.95
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("toy epoch")]
    assert len(lines) == 8
    assert lines[2].startswith("toy epoch 3/8  train_loss ")
    assert "val_loss " in lines[2] and "val_acc " in lines[2] and lines[2].rstrip(" *")[-1] == "s"


def test_the_model_comes_back_on_the_cpu_with_its_best_validation_weights():
    model, history = fit(epochs=8)
    assert common.model_device(model).type == "cpu" and not model.training
    best = common.best_epoch(history)
    assert common.accuracy(model, separable(128, 1)) == pytest.approx(best["val_acc"], abs=1e-6)
    # Plain CPU tensors work, as they would with any nn.Module.
    assert model(torch.zeros(3, 4)).shape == (3, 2)


def test_a_recorded_run_writes_dvclive_files_and_a_png(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, history = fit(epochs=4, name="toy", record=True)
    summary = json.loads((tmp_path / "dvclive/toy/metrics.json").read_text())
    assert summary["step"] == 4 and summary["val_acc"] == history[-1]["val_acc"]
    series = (tmp_path / "dvclive/toy/plots/metrics/val_loss.tsv").read_text().split()
    assert series[:2] == ["step", "val_loss"] and len(series) == 2 + 2 * 4
    assert (tmp_path / "plots/toy_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "checkpoints").exists()  # removed once training ends


class Interrupt(Exception):
    pass


def test_an_interrupted_run_resumes_and_ends_as_an_uninterrupted_one(tmp_path, monkeypatch,
                                                                    capsys):
    monkeypatch.chdir(tmp_path)
    whole, whole_history = fit(epochs=6, name="toy", record=True)

    real_epoch = common.EpochLog.epoch

    def stop_after_three(self, epoch, **kwargs):
        row = real_epoch(self, epoch, **kwargs)
        if epoch == 3:
            raise Interrupt
        return row

    monkeypatch.setattr(common.EpochLog, "epoch", stop_after_three)
    with pytest.raises(Interrupt):
        fit(epochs=6, name="toy", record=True)
    assert (tmp_path / "checkpoints/toy/last.pt").is_file()
    monkeypatch.setattr(common.EpochLog, "epoch", real_epoch)
    capsys.readouterr()
    resumed, resumed_history = fit(epochs=6, name="toy", record=True)
    out = capsys.readouterr().out
    assert "resuming after epoch" in out and "toy epoch 1/6" not in out
    tol = 0.0 if common.pick_device().type == "cpu" else 1e-5
    for key, value in whole.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[key], value, rtol=0, atol=tol)
    drop = ("seconds",)
    assert ([{k: v for k, v in r.items() if k not in drop} for r in resumed_history]
            == [{k: v for k, v in r.items() if k not in drop} for r in whole_history])


def test_a_checkpoint_of_another_run_is_not_resumed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    checkpoint = common.Checkpoint("toy", "another run's fingerprint")
    checkpoint.save({"epoch": 2, "model": {}, "optimiser": {}, "best": {}, "history": []})
    _, history = fit(epochs=3, name="toy", record=True)
    assert "ignoring checkpoints/toy/last.pt" in capsys.readouterr().out
    assert [row["epoch"] for row in history] == [1, 2, 3]


def test_bf16_is_for_cuda_only():
    _, plain = fit(epochs=6)
    _, amp = fit(epochs=6, amp=True)
    if common.pick_device().type == "cuda":
        assert common.best_epoch(amp)["val_acc"] > 0.9
    else:  # ignored on the CPU (and mps): the very same run
        drop = ("seconds",)
        assert ([{k: v for k, v in r.items() if k not in drop} for r in amp]
                == [{k: v for k, v in r.items() if k not in drop} for r in plain])


def test_predict_follows_the_model_or_moves_it():
    model = nn.Linear(4, 2)
    logits = common.predict(model, separable(10))
    assert logits.shape == (10, 2) and logits.device.type == "cpu"
    device = common.pick_device()
    common.predict(model, separable(10), device)
    assert common.model_device(model).type == device.type
