"""PNG figures (a PNG opens anywhere, offline; `dvc plots show` draws the CSVs too)."""

from __future__ import annotations

from pathlib import Path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def line_plot(rows: list[dict], x: str, ys: list[str], path: str, *, title: str, xlabel: str,
              ylabel: str) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for y in ys:
        points = [(r[x], r[y]) for r in rows if r.get(y) is not None]
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=y)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def pareto_plot(rows: list[dict], path: str, *, latency_key: str, title: str) -> None:
    """Accuracy against latency, marker area proportional to size on disk;
    the Pareto front (no other variant is both faster and more accurate) joined."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    biggest = max(r["size_bytes"] for r in rows)
    for r in rows:
        ax.scatter(r[latency_key], r["accuracy"], s=40 + 400 * r["size_bytes"] / biggest,
                   alpha=0.6)
        ax.annotate(r["variant"], (r[latency_key], r["accuracy"]), fontsize=8,
                    xytext=(4, 4), textcoords="offset points")
    front, best = [], -1.0
    for r in sorted(rows, key=lambda r: (r[latency_key], -r["accuracy"])):
        if r["accuracy"] > best:
            front.append(r)
            best = r["accuracy"]
    ax.plot([r[latency_key] for r in front], [r["accuracy"] for r in front], "k--", lw=1,
            label="Pareto front")
    ax.set(title=title, xlabel=f"{latency_key} (median)", ylabel="test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def placeholder_png(path: str, todo: list[str]) -> None:
    """A figure that says what to write before the real one can be drawn."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 2))
    ax.axis("off")
    text = "\n".join(t.split(";")[0] for t in todo[:2]) or "not implemented yet"
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
