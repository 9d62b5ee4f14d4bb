"""A tiny world of coloured shapes, with questions and captions about it.

Each image is a 3x3 grid of cells holding one to three shapes, each a
different shape in a different colour. Three kinds of question are asked:

* ``colour``: "what colour is the square ?"  -> needs the image *and* the text
* ``shape``:  "what shape is red ?"          -> needs the image *and* the text
* ``count``:  "how many shapes are there ?"  -> the image alone answers it

and each image has a caption naming every shape, its colour and its cell
("red circle top left and blue square middle centre"), for retrieval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (50, 80, 230),
    "yellow": (230, 210, 40),
    "white": (235, 235, 235),
}
SHAPES = ("circle", "square", "triangle", "cross")
ROWS = ("top", "middle", "bottom")
COLS = ("left", "centre", "right")
COUNTS = ("one", "two", "three")
KINDS = ("colour", "shape", "count")
# Every answer is one class of one classifier.
ANSWERS = (*COLOURS, *SHAPES, *COUNTS)
QUESTION_WORDS = ("what", "colour", "is", "the", "shape", "how", "many", "shapes", "are",
                  "there", "?", "and")
# Token 0 pads a sentence to a fixed length.
VOCAB = ("<pad>", *QUESTION_WORDS, *COLOURS, *SHAPES, *ROWS, *COLS)
TOKEN = {word: i for i, word in enumerate(VOCAB)}
QUESTION_LEN = 6
CAPTION_LEN = 15  # three shapes of four words and two "and"s


@dataclass(frozen=True)
class Scene:
    shapes: tuple[tuple[str, str, int], ...]  # (shape, colour, cell 0..8)

    def caption(self) -> str:
        parts = [f"{colour} {shape} {ROWS[cell // 3]} {COLS[cell % 3]}"
                 for shape, colour, cell in sorted(self.shapes, key=lambda s: s[2])]
        return " and ".join(parts)


def shape_mask(shape: str, size: int) -> np.ndarray:
    """A boolean ``size`` x ``size`` mask of one shape."""
    c = (size - 1) / 2
    yy, xx = np.mgrid[0:size, 0:size] - c
    half = size / 2
    if shape == "circle":
        return yy**2 + xx**2 <= half**2
    if shape == "square":
        return (np.abs(yy) <= half * 0.8) & (np.abs(xx) <= half * 0.8)
    if shape == "triangle":
        return np.abs(xx) <= (yy + half) / 2
    if shape == "cross":
        bar = max(size // 6, 1)
        return (np.abs(xx) <= bar) | (np.abs(yy) <= bar)
    raise ValueError(f"unknown shape {shape!r}")


def random_scene(rng: np.random.Generator, max_shapes: int = 3) -> Scene:
    n = int(rng.integers(1, max_shapes + 1))
    shapes = rng.choice(len(SHAPES), n, replace=False)
    colours = rng.choice(len(COLOURS), n, replace=False)
    cells = rng.choice(9, n, replace=False)
    names = list(COLOURS)
    return Scene(tuple((SHAPES[s], names[c], int(p))
                       for s, c, p in zip(shapes, colours, cells, strict=True)))


def draw(scene: Scene, rng: np.random.Generator, cell: int, noise: float,
         jitter: int) -> np.ndarray:
    """The scene as a (3, 3*cell, 3*cell) uint8 image on a dark background."""
    side = 3 * cell
    image = rng.normal(20, 255 * noise, size=(side, side, 3))
    for shape, colour, where in scene.shapes:
        size = int(rng.integers(cell - 3, cell - 1))
        oy, ox = (int(v) for v in rng.integers(0, cell - size + 1, size=2))
        top, left = (where // 3) * cell + oy, (where % 3) * cell + ox
        rgb = np.asarray(COLOURS[colour]) + rng.integers(-jitter, jitter + 1, size=3)
        image[top:top + size, left:left + size][shape_mask(shape, size)] = rgb
    return np.clip(image, 0, 255).astype(np.uint8).transpose(2, 0, 1)


def ask(scene: Scene, kind: str, rng: np.random.Generator) -> tuple[str, str]:
    """A question of ``kind`` about the scene, and its answer."""
    shape, colour, _ = scene.shapes[int(rng.integers(len(scene.shapes)))]
    if kind == "colour":
        return f"what colour is the {shape} ?", colour
    if kind == "shape":
        return f"what shape is {colour} ?", shape
    if kind == "count":
        return "how many shapes are there ?", COUNTS[len(scene.shapes) - 1]
    raise ValueError(f"unknown question kind {kind!r}; known: {', '.join(KINDS)}")


def encode(text: str, length: int) -> np.ndarray:
    """Token ids of ``text``, padded with 0 to ``length``."""
    ids = [TOKEN[word] for word in text.split()]
    if len(ids) > length:
        raise ValueError(f"{text!r} has more than {length} tokens")
    return np.asarray(ids + [0] * (length - len(ids)), dtype=np.int64)


def decode(ids: np.ndarray) -> str:
    return " ".join(VOCAB[i] for i in ids if i)


def make_dataset(n: int, rng: np.random.Generator, *, cell: int, noise: float,
                 jitter: int, mix: dict[str, float]) -> dict[str, np.ndarray]:
    """``n`` examples: images (x), question tokens, answers (y), question
    kinds, and caption tokens."""
    kinds = list(mix)
    weights = np.asarray([mix[k] for k in kinds], dtype=float)
    picks = rng.choice(len(kinds), n, p=weights / weights.sum())
    images, questions, answers, captions = [], [], [], []
    for pick in picks:
        scene = random_scene(rng)
        images.append(draw(scene, rng, cell, noise, jitter))
        question, answer = ask(scene, kinds[pick], rng)
        questions.append(encode(question, QUESTION_LEN))
        answers.append(ANSWERS.index(answer))
        captions.append(encode(scene.caption(), CAPTION_LEN))
    return {
        "x": np.stack(images),
        "questions": np.stack(questions),
        "y": np.asarray(answers, dtype=np.int64),
        "kind": np.asarray([KINDS.index(kinds[p]) for p in picks], dtype=np.int64),
        "captions": np.stack(captions),
    }
