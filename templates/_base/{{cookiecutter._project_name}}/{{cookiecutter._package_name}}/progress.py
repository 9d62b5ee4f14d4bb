"""Per-epoch progress of any training loop (``EpochLog``): one line per
epoch on stdout, DVCLive's files for ``dvc exp show``, ``dvc metrics`` and
``dvc plots``, and a PNG of the curves. No PyTorch here.

What a run called ``name`` writes:

* one line per epoch on stdout (``train epoch  3/20  train_loss 0.4123 ...``);
* ``dvclive/<name>/metrics.json`` (the last epoch) and
  ``dvclive/<name>/plots/metrics/*.tsv`` (one row per epoch), written with
  DVCLive, DVC's own logger (or by hand, in the same format, where DVCLive
  cannot run);
* ``plots/<name>_curves.png``: train and validation curves, one panel per
  quantity.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

# DVCLive never talks to DVC Studio from a project stage unless you ask for it.
os.environ.setdefault("DVC_STUDIO_OFFLINE", "1")


class _LiveFiles:
    """The files DVCLive writes, written by hand: the same names and format.

    Used where DVCLive cannot be: when it is not installed (a GPU node with
    PyTorch but without DVC), or outside a DVC project, where DVCLive would
    run ``dvc init`` in the enclosing git repository.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.summary: dict[str, Any] = {}
        (folder / "metrics.json").unlink(missing_ok=True)
        shutil.rmtree(folder / "plots" / "metrics", ignore_errors=True)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        series = self.folder / "plots" / "metrics"
        series.mkdir(parents=True, exist_ok=True)
        for key, value in metrics.items():
            path = series / f"{key}.tsv"
            new = not path.exists()
            with path.open("a", encoding="utf-8", newline="") as fh:
                if new:
                    fh.write(f"step\t{key}{os.linesep}")
                fh.write(f"{step}\t{value}{os.linesep}")
        self.summary.update(metrics)
        self.summary["step"] = step
        with (self.folder / "metrics.json").open("w", encoding="utf-8") as fh:
            json.dump(self.summary, fh, indent=4)
            fh.write("\n")

    def end(self) -> None:
        pass


class _DVCLive:
    def __init__(self, folder: Path):
        from dvclive import Live

        # dvcyaml=False: never rewrite dvc.yaml (the stage declares the files);
        # save_dvc_exp=False: a plain `python -m ...` is not a DVC experiment.
        self.live = Live(dir=folder.as_posix(), dvcyaml=False, save_dvc_exp=False)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self.live.step = step
        for key, value in metrics.items():
            self.live.log_metric(key, value)
        self.live.next_step()

    def end(self) -> None:
        self.live.end()


def _in_dvc_project() -> bool:
    here = Path.cwd().resolve()
    return any((folder / ".dvc").is_dir() for folder in (here, *here.parents))


def _writer(folder: Path) -> _LiveFiles | _DVCLive:
    if os.environ.get("DLPATH_DVCLIVE", "1") != "0" and _in_dvc_project():
        try:
            return _DVCLive(folder)
        except ImportError:
            pass
    return _LiveFiles(folder)


def _family(key: str) -> str:
    """``train_loss`` and ``val_loss`` share a panel: ``loss``."""
    for prefix in ("train_", "val_", "test_"):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def plot_curves(history: list[dict[str, float]], path: str | Path, title: str = "",
                mark: int | None = None) -> Path:
    """A PNG with one panel per quantity (loss, acc, ...), train and
    validation curves together, against the epoch; ``mark`` draws a line at
    one epoch (the one whose weights were kept)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in history[0] if k not in ("epoch", "seconds")]
    families: dict[str, list[str]] = {}
    for key in keys:
        families.setdefault(_family(key), []).append(key)
    fig, axes = plt.subplots(1, len(families), figsize=(4.2 * len(families), 3.2),
                             squeeze=False)
    epochs = [row["epoch"] for row in history]
    for ax, (family, members) in zip(axes[0], families.items(), strict=True):
        for key in members:
            ax.plot(epochs, [row[key] for row in history], marker="o", markersize=3,
                    label=key.split("_")[0] if key != family else key)
        if mark is not None:
            ax.axvline(mark, color="grey", linestyle="--", linewidth=1, label=f"kept ({mark})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(family)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


class EpochLog:
    """Per-epoch progress of a training loop, for any loop.

    Each ``log.epoch(...)`` prints one line (``name epoch  3/20  train_loss
    0.4123  val_acc 0.9120  1.2s``). With ``record=True`` the same numbers go
    to ``dvclive/<name>/`` (DVCLive's files) and ``close()`` draws
    ``plots/<name>_curves.png``::

        with deterministic(), EpochLog("contrastive", epochs=cfg["epochs"], record=True) as log:
            for epoch in range(1, cfg["epochs"] + 1):
                loss = ...  # one epoch of training (``with autocast(amp, device):`` for bf16)
                log.epoch(epoch, train_loss=loss)

    ``show`` limits the keys printed (everything is recorded); ``enabled=False``
    (every process but the main one under torchrun) makes it silent.
    """

    def __init__(self, name: str = "train", *, epochs: int | None = None, record: bool = False,
                 show: tuple[str, ...] | None = None, enabled: bool = True):
        self.name, self.epochs, self.show = name, epochs, show
        self.enabled, self.record = enabled, record and enabled
        self.history: list[dict[str, float]] = []
        self._writer = _writer(Path("dvclive") / name) if self.record else None
        self._last = time.perf_counter()

    @property
    def png(self) -> Path:
        return Path("plots") / f"{self.name}_curves.png"

    def __enter__(self) -> EpochLog:
        return self.start()

    def start(self) -> EpochLog:
        """Start the clock of the first epoch (it runs from the log's creation)."""
        self._last = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(plot=exc_type is None)

    def epoch(self, epoch: int, *, seconds: float | None = None, note: str = "",
              **metrics: float) -> dict[str, float]:
        """Record one epoch; ``seconds`` defaults to the time since the last call."""
        now = time.perf_counter()
        seconds = now - self._last if seconds is None else seconds
        self._last = now
        values = {key: round(float(value), 6) for key, value in metrics.items()}
        row = {"epoch": epoch, **values, "seconds": round(seconds, 3)}
        self.history.append(row)
        if self.enabled:
            print(self.format(row) + note, flush=True)
        if self._writer is not None:
            self._writer.log(epoch, values)
        return row

    def replay(self, history: list[dict[str, float]]) -> None:
        """Record epochs of an earlier, interrupted run without printing them."""
        for row in history:
            self.history.append(dict(row))
            if self._writer is not None:
                self._writer.log(int(row["epoch"]),
                                 {k: v for k, v in row.items() if k not in ("epoch", "seconds")})

    def format(self, row: dict[str, float]) -> str:
        total = f"/{self.epochs}" if self.epochs else ""
        width = len(str(self.epochs or row["epoch"]))
        parts = [f"{self.name} epoch {row['epoch']:>{width}}{total}"]
        parts += [f"{key} {value:.4f}" for key, value in row.items()
                  if key not in ("epoch", "seconds") and (self.show is None or key in self.show)]
        parts.append(f"{row['seconds']:.1f}s")
        return "  ".join(parts)

    def close(self, plot: bool = True, mark: int | None = None) -> None:
        """Finish the record; draw the PNG unless ``plot`` is false (``mark``:
        an epoch to highlight)."""
        if self._writer is not None:
            self._writer.end()
            self._writer = None
            if plot and self.history:
                plot_curves(self.history, self.png, title=self.name, mark=mark)
