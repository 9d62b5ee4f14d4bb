"""PNG pictures the stages write (they also show offline, unlike `dvc plots show`)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _save(fig, path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_lines(series: dict[str, tuple[list, list, list]], path: str, *, xlabel: str,
               ylabel: str, title: str, logx: bool = False, hlines: dict | None = None) -> None:
    """Lines with error bars: name -> (x, mean, sd); optional horizontal references."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, (xs, mean, sd) in series.items():
        ax.errorbar(xs, mean, yerr=sd, marker="o", capsize=3, label=name)
    for name, y in (hlines or {}).items():
        ax.axhline(y, linestyle=":", color="grey")
        ax.annotate(name, (ax.get_xlim()[0], y), fontsize=8, va="bottom")
    if logx:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    _save(fig, path)


def plot_bars(names: list[str], mean: list[float], sd: list[float], path: str, *,
              ylabel: str, title: str) -> None:
    fig, ax = plt.subplots(figsize=(max(5, len(names) * 0.9), 3.8))
    ax.bar(names, mean, yerr=sd, capsize=3, color="#4c72b0")
    ax.set(ylabel=ylabel, title=title)
    ax.tick_params(axis="x", labelrotation=30)
    _save(fig, path)
