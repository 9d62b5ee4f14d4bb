"""Stage `generate`: the paired image-and-text splits, a figure of examples,
and what the data allows at best.

* train, val, test: scenes without the held-out colour-shape pairs;
* compositional: colour and shape questions about held-out objects only.

Each split has its own random stream (``world.split_rng``): a seed always
gives the same data, and dlpath can regenerate any split on its own.

``metrics/data.json`` holds the *ceiling*: the accuracy, per kind of
question, of an observer who knows exactly how the images are drawn
(``world.ideal_answers``). 1.0 means every question has an answer in its
image; anything a model misses is the model's doing.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .runs import one_process  # noqa: E402
from .stage import load_params, write_json  # noqa: E402
from .world import (  # noqa: E402
    ANSWERS,
    SPLITS,
    check_world,
    closest_shapes,
    decode,
    ideal_answers,
    make_split,
    per_kind,
)


def examples_figure(data: dict[str, dict[str, np.ndarray]], path: Path, n: int = 6) -> None:
    rows = [("test", data["test"]), ("compositional", data["compositional"])]
    fig, axes = plt.subplots(len(rows), n, figsize=(1.9 * n, 3.0 * len(rows)), squeeze=False)
    for (name, split), line in zip(rows, axes, strict=True):
        for i, ax in enumerate(line):
            ax.imshow(split["x"][i].transpose(1, 2, 0))
            question = decode(split["questions"][i]).replace(" is ", "\nis ")
            ax.set_title(f"{question}\n-> {ANSWERS[split['y'][i]]}", fontsize=7)
            ax.axis("off")
        line[0].text(-0.15, 0.5, name, transform=line[0].transAxes, rotation=90,
                     ha="right", va="center", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_split(path: str, arrays: dict[str, np.ndarray]) -> None:
    """One split as ``common.load_split`` reads it. Written here with NumPy
    alone: this stage never imports PyTorch (``common`` does), which saves
    seconds on every run."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


def main() -> None:
    one_process("generate")
    params = load_params()
    cfg = params["generate"]
    try:
        check_world(cfg)
    except ValueError as exc:
        raise SystemExit(f"params.yaml: {exc}") from None
    data = {split: make_split(split, params["seed"], cfg) for split in SPLITS}
    for split, arrays in data.items():
        save_split(f"data/generated/{split}.npz", arrays)
        print(f"{split}: {len(arrays['y'])} image-question-answer-caption examples")
    examples_figure(data, Path("figures/examples.png"))
    distance, a, b = closest_shapes(int(cfg["cell"]))
    ceiling = {}
    for split in ("test", "compositional"):
        d = data[split]
        answers = ideal_answers(d["x"], d["questions"], int(cfg["cell"]))
        ceiling[split] = {k: round(v, 4) for k, v in per_kind(answers == d["y"], d["kind"]).items()}
    seen = {c.tobytes() for c in data["train"]["captions"]}
    write_json("metrics/data.json", {
        "examples": {split: len(d["y"]) for split, d in data.items()},
        "held_out": list(cfg["held_out"]),
        "closest_shapes": {"pixels": distance, "pair": f"{a[0]} {a[1]}px / {b[0]} {b[1]}px"},
        "ceiling": ceiling,
        "test_captions_seen_in_training": round(float(np.mean(
            [c.tobytes() in seen for c in data["test"]["captions"]])), 4),
    })
    print(f"ceiling (an ideal observer's accuracy) on test: {ceiling['test']['all']:.3f}; "
          f"the two most alike shapes differ in {distance} pixels ({a[0]}/{b[0]})")


if __name__ == "__main__":
    main()
