"""Stage `generate`: render the synthetic dataset from `generate` in params.yaml.

Each digit: a glyph (``glyphs.draw``: a style, a skeleton or font, the pen's
jitter), your domain randomisation (``randomise.randomise``), ink and paper
colours (``glyphs.colourise``), and the conversion to the real digits' 8x8
format. Then the defects real pipelines have in some form, on purpose, for
``curate`` to find: labels from an auto-labeller that confuses look-alike
digits, and renders repeated (as when two workers start from the same seed).

While a transform of ``randomise.py`` is still a TODO, its factors are left
out (the stage says which) and the data is rendered without them.
"""

from __future__ import annotations

import numpy as np

from .glyphs import STYLES, colourise, draw, ink_of, to_digits_format
from .parallel import limit_threads, run_all
from .randomise import affine, elastic, randomise, stroke
from .stage import learner_code, load_params, save_split, write_json

PREVIEW = 200  # renders kept (32x32 RGB) for the dataset card's pictures
CHUNK = 250  # digits per job
# Which function of randomise.py each factor needs.
NEEDS = {"stroke": stroke, "rotation": affine, "shear": affine, "aspect": affine,
         "elastic": elastic}


def usable_factors(factors: dict, todo: list[str]) -> dict:
    """``factors`` without those whose transform is still a TODO stub."""
    tiny = np.zeros((8, 8), np.float32)
    tiny[3:5, 3:5] = 1.0
    trials = {stroke: lambda: stroke(tiny, 1), affine: lambda: affine(tiny, 10.0, 0.1, 1.1),
              elastic: lambda: elastic(tiny, np.random.default_rng(0), 1.0, 2.0)}
    working = {}
    for fn, trial in trials.items():
        noted = len(todo)
        with learner_code(todo):
            trial()
        working[fn] = len(todo) == noted
    return {name: (s if working.get(NEEDS.get(name), True) else 0)
            for name, s in factors.items()}


def render_one(digit: int, rng: np.random.Generator, cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    """One digit: (8x8 model input in [0, 1], the 64x64 RGB picture)."""
    weights = np.asarray([cfg["styles"].get(s, 0) for s in STYLES], dtype=float)
    style = STYLES[int(rng.choice(len(STYLES), p=weights / weights.sum()))]
    glyph = draw(digit, style, rng, cfg["jitter"], cfg["pen"])
    glyph = randomise(glyph, rng, cfg["factors"])
    rgb = colourise(glyph, rng, cfg["colour"])
    return to_digits_format(ink_of(rgb)), rgb


def _render_chunk(labels: np.ndarray, first: int, seed: int, cfg: dict):
    xs, pictures = [], []
    for i, digit in enumerate(labels, start=first):
        # One random stream per digit: switching a factor off changes that
        # factor's draws only, never another digit's (the ablation pairs them).
        x, rgb = render_one(int(digit), np.random.default_rng([seed, i]), cfg)
        xs.append(x)
        pictures.append(rgb[::2, ::2])
    return np.stack(xs), np.stack(pictures)


def render_many(settings: dict[str, dict], n: int, seed: int,
                workers: int = 1) -> dict[str, dict[str, np.ndarray]]:
    """``n`` clean renders per generator setting, the same digits and random
    draws for each (only what a setting changes differs): x, y, 32x32 pictures."""
    labels = np.resize(np.arange(10), n)
    np.random.default_rng([seed, n]).shuffle(labels)
    jobs = [(labels[i:i + CHUNK], i, seed, cfg) for cfg in settings.values()
            for i in range(0, n, CHUNK)]
    parts = iter(run_all(_render_chunk, jobs, workers))
    out = {}
    for name in settings:
        mine = [next(parts) for _ in range(0, n, CHUNK)]
        out[name] = {"x": np.concatenate([p[0] for p in mine])[:, None].astype(np.float32),
                     "y": labels.astype(np.int64),
                     "rgb": np.concatenate([p[1] for p in mine])}
    return out


def render(cfg: dict, n: int, seed: int, workers: int = 1) -> dict[str, np.ndarray]:
    """``n`` clean renders, balanced over the digits: x, y, and 32x32 pictures."""
    return render_many({"": cfg}, n, seed, workers)[""]


#: the digit an old auto-labeller mistakes each digit for
LOOK_ALIKE = {0: 8, 1: 7, 2: 6, 3: 5, 4: 9, 5: 3, 6: 2, 7: 1, 8: 0, 9: 4}


def add_defects(data: dict[str, np.ndarray], defects: dict, seed: int) -> dict[str, np.ndarray]:
    """Repeat some renders and mislabel some; keep the truth beside them.

    The wrong labels are not random: they are what an old auto-labeller does,
    calling a share of each digit by its look-alike (a 7 a 1, a 4 a 9).
    Systematic errors like these teach a model the wrong boundary; random
    ones mostly wash out."""
    rng = np.random.default_rng([seed, 7])
    n = len(data["y"])
    x, y = data["x"].copy(), data["y"].copy()
    repeat_of = np.full(n, -1)
    repeats = rng.choice(np.arange(1, n), int(round(defects["repeats"] * n)), replace=False)
    for i in np.sort(repeats):
        source = int(rng.integers(i))
        source = repeat_of[source] if repeat_of[source] >= 0 else source
        x[i], y[i], repeat_of[i] = x[source], y[source], source
    true_y = y.copy()
    wrong = rng.random(n) < defects["mislabelled"]
    y[wrong] = [LOOK_ALIKE[int(d)] for d in y[wrong]]
    return {"x": x, "y": y, "true_y": true_y, "repeat_of": repeat_of,
            "rgb": data["rgb"][:PREVIEW]}


def main() -> None:
    params = load_params()
    limit_threads(params.get("threads"))
    cfg = params["generate"]
    todo: list[str] = []
    used = {**cfg, "factors": usable_factors(cfg["factors"], todo)}
    off = sorted(k for k, v in cfg["factors"].items() if v and not used["factors"][k])
    if off:
        print(f"factors left out until their transform is written: {', '.join(off)}")
    clean = render(used, cfg["n"], params["seed"], params.get("workers", 1))
    data = add_defects(clean, cfg["defects"], params["seed"])
    save_split("data/synthetic/dataset.npz", **data)
    write_json("metrics/generate.json", {
        "examples": len(data["y"]),
        "factors_used": {k: v for k, v in used["factors"].items() if v},
        **({"not_implemented": todo} if todo else {}),
    })
    print(f"rendered {len(data['y'])} synthetic digits to data/synthetic/dataset.npz")


if __name__ == "__main__":
    main()
