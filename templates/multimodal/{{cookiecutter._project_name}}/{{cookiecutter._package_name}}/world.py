"""A tiny world of coloured shapes, with questions and captions about it.

Each image is a 3x3 grid of cells holding one to four objects: every object a
different shape in a different colour. Three kinds of question are asked:

* ``colour``: "what colour is the square ?"  -> needs the image *and* the text
* ``shape``:  "what shape is red ?"          -> needs the image *and* the text
* ``count``:  "how many shapes are there ?"  -> the image alone answers it

and each image has a caption naming every object, its colour and its cell
("red triangle top left and blue square middle centre"), for retrieval.

Some colour-shape combinations (``HELD_OUT``: a red circle, a green square...)
never appear in the train, validation and test splits. The ``compositional``
split asks about exactly those objects: a model that understood "red" and
"circle" separately answers; one that memorised which combinations go
together does not.

Every shape can be told from every other at every size it is drawn at
(``closest_shapes`` measures it), so an observer that knows how the images
are drawn answers every question: ``ideal_answers`` is that observer, and
its accuracy is the ceiling no model can beat.

This module is plain NumPy and imports nothing else from the project:
dlpath's own check regenerates scenes with it.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

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
COUNTS = ("one", "two", "three", "four")
KINDS = ("colour", "shape", "count")
# Every answer is one class of one classifier; ANSWER_KIND[i] is the kind of
# question that answer i answers (0 colour, 1 shape, 2 count).
ANSWERS = (*COLOURS, *SHAPES, *COUNTS)
ANSWER_KIND = (0,) * len(COLOURS) + (1,) * len(SHAPES) + (2,) * len(COUNTS)
QUESTION_WORDS = ("what", "colour", "is", "the", "shape", "how", "many", "shapes", "are",
                  "there", "?", "and")
# Token 0 pads a sentence to a fixed length.
VOCAB = ("<pad>", *QUESTION_WORDS, *COLOURS, *SHAPES, *ROWS, *COLS)
TOKEN = {word: i for i, word in enumerate(VOCAB)}
MAX_OBJECTS = len(SHAPES)  # each shape at most once in a scene
QUESTION_LEN = 6
CAPTION_LEN = 4 * MAX_OBJECTS + (MAX_OBJECTS - 1)  # four words per object, "and" between
# Combinations kept out of every split but `compositional` (one per shape and
# per colour, so each shape and each colour is still seen in training).
HELD_OUT = ("red circle", "green square", "blue triangle", "yellow cross")
# Two shapes must differ in at least this many pixels, at every drawn size.
MIN_DISTANCE = 6
# The world the milestones are judged in: params.yaml's `generate` section
# starts as this (plus the size of each split).
DEFAULT_WORLD = {
    "cell": 8,
    "noise": 0.03,
    "colour_jitter": 25,
    "max_objects": MAX_OBJECTS,
    "held_out": list(HELD_OUT),
    "mix": {"colour": 0.4, "shape": 0.4, "count": 0.2},
}
# Each split draws from its own random stream: any split can be regenerated
# alone, and changing the size of one never changes another.
SPLITS = {"train": 0, "val": 1, "test": 2, "compositional": 3}
BACKGROUND = 20


# ------------------------------------------------------------------ shapes


def sizes(cell: int) -> tuple[int, ...]:
    """The sizes (pixels) at which objects are drawn in cells of ``cell`` pixels."""
    return (cell - 3, cell - 2)


@lru_cache(maxsize=None)
def shape_mask(shape: str, size: int) -> np.ndarray:
    """A boolean ``size`` x ``size`` mask of one shape (read-only)."""
    c = (size - 1) / 2
    yy, xx = np.mgrid[0:size, 0:size] - c
    half = size / 2
    if shape == "circle":  # a filled disc
        mask = yy**2 + xx**2 <= half**2
    elif shape == "square":  # an outline, one pixel wide
        mask = (np.abs(yy) > c - 1) | (np.abs(xx) > c - 1)
    elif shape == "triangle":  # filled, pointing up
        mask = np.abs(xx) <= (yy + half) / 2
    elif shape == "cross":  # a plus: one pixel wide at odd sizes, two at even
        bar = 0.5 if size % 2 else 1.0
        mask = (np.abs(xx) < bar) | (np.abs(yy) < bar)
    else:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    mask.setflags(write=False)
    return mask


def mask_distance(a: np.ndarray, b: np.ndarray) -> int:
    """The fewest pixels in which two masks differ, over every way of placing
    one on the other (where an object sits in its cell is random)."""
    hb, wb = b.shape
    canvas = np.pad(a.astype(np.int64), ((hb, hb), (wb, wb)))
    windows = np.lib.stride_tricks.sliding_window_view(canvas, b.shape)
    overlap = np.einsum("ijkl,kl->ij", windows, b.astype(np.int64))
    return int(a.sum() + b.sum() - 2 * overlap.max())


def closest_shapes(cell: int) -> tuple[int, tuple[str, int], tuple[str, int]]:
    """The two most alike masks of *different* shapes at the sizes drawn in
    cells of ``cell`` pixels: (pixels they differ in, (shape, size), (shape, size))."""
    drawn = [(shape, size) for shape in SHAPES for size in sizes(cell)]
    return min((mask_distance(shape_mask(*a), shape_mask(*b)), a, b)
               for a, b in itertools.combinations(drawn, 2) if a[0] != b[0])


def check_world(cfg: dict[str, Any]) -> None:
    """Refuse generator settings under which some questions have no answer."""
    cell = int(cfg["cell"])
    if cell < 7:
        raise ValueError(f"generate.cell = {cell}: shapes drawn at {sizes(cell)} px cannot be "
                         "told apart; use 7 or more")
    distance, a, b = closest_shapes(cell)
    if distance < MIN_DISTANCE:
        raise ValueError(f"generate.cell = {cell}: a {a[0]} at {a[1]} px and a {b[0]} at "
                         f"{b[1]} px differ in only {distance} pixels")
    if not 1 <= int(cfg["max_objects"]) <= MAX_OBJECTS:
        raise ValueError(f"generate.max_objects must be 1 to {MAX_OBJECTS}")
    held = parse_combos(cfg.get("held_out") or ())
    if not held:
        raise ValueError("generate.held_out is empty: the compositional split asks about "
                         "colour-shape pairs held out of training; hold out at least one "
                         f"(the template holds out {', '.join(HELD_OUT)})")
    if len(held) == len(SHAPES) * len(COLOURS):
        raise ValueError("generate.held_out holds out every colour-shape pair: "
                         "nothing is left to train on")


def parse_combos(names) -> frozenset[tuple[str, str]]:
    """``["red circle", ...]`` -> {("circle", "red"), ...} (shape, colour)."""
    combos = set()
    for name in names:
        parts = str(name).split()
        if len(parts) != 2 or parts[0] not in COLOURS or parts[1] not in SHAPES:
            raise ValueError(f"held-out combination {name!r} is not 'COLOUR SHAPE' "
                             f"(colours: {', '.join(COLOURS)}; shapes: {', '.join(SHAPES)})")
        combos.add((parts[1], parts[0]))
    return frozenset(combos)


# ------------------------------------------------------------------ scenes


@dataclass(frozen=True)
class Scene:
    objects: tuple[tuple[str, str, int], ...]  # (shape, colour, cell 0..8)

    def caption(self) -> str:
        parts = [f"{colour} {shape} {ROWS[cell // 3]} {COLS[cell % 3]}"
                 for shape, colour, cell in sorted(self.objects, key=lambda o: o[2])]
        return " and ".join(parts)


def random_scene(rng: np.random.Generator, max_objects: int,
                 held_out: frozenset[tuple[str, str]] = frozenset(),
                 combos: str = "seen") -> Scene:
    """A scene of 1..``max_objects`` objects. ``combos``: "seen" (no held-out
    combination), "novel" (at least one) or "any"."""
    if combos == "novel" and not held_out:
        raise ValueError("a scene with a held-out pair needs at least one held-out pair")
    names = list(COLOURS)
    minimum = 1
    while True:
        n = int(rng.integers(minimum, max_objects + 1))
        shapes = rng.permutation(len(SHAPES))[:n]
        colours = rng.permutation(len(COLOURS))[:n]
        cells = rng.permutation(9)[:n]
        objects = tuple((SHAPES[s], names[c], int(p))
                        for s, c, p in zip(shapes, colours, cells, strict=True))
        novel = any((shape, colour) in held_out for shape, colour, _ in objects)
        if combos == "any" or novel == (combos == "novel"):
            return Scene(objects)


def draw(scenes: list[Scene], rng: np.random.Generator, cell: int, noise: float,
         jitter: int) -> np.ndarray:
    """The scenes as (N, 3, 3*cell, 3*cell) uint8 images on a dark, noisy
    background; each object at a random size and place inside its cell, its
    colour jittered by up to ``jitter`` per channel."""
    side = 3 * cell
    images = BACKGROUND + 255 * noise * rng.standard_normal(
        (len(scenes), side, side, 3), dtype=np.float32)
    low, high = sizes(cell)[0], sizes(cell)[-1]
    for image, scene in zip(images, scenes, strict=True):
        n = len(scene.objects)
        size = rng.integers(low, high + 1, size=n)
        offset = rng.integers(0, (cell - size + 1)[:, None], size=(n, 2))
        shift = rng.integers(-jitter, jitter + 1, size=(n, 3))
        for (shape, colour, where), s, (oy, ox), d in zip(scene.objects, size, offset, shift,
                                                         strict=True):
            top, left = (where // 3) * cell + oy, (where % 3) * cell + ox
            image[top:top + s, left:left + s][shape_mask(shape, int(s))] = \
                np.asarray(COLOURS[colour]) + d
    return np.clip(images, 0, 255).astype(np.uint8).transpose(0, 3, 1, 2)


def ask(scene: Scene, kind: str, rng: np.random.Generator,
        about: list[tuple[str, str, int]] | None = None) -> tuple[str, str, int]:
    """A question of ``kind`` about one of ``about`` (default: any object of
    the scene): (question, answer, the cell of the object asked about or -1)."""
    objects = about or scene.objects
    shape, colour, cell = objects[int(rng.integers(len(objects)))]
    if kind == "colour":
        return f"what colour is the {shape} ?", colour, cell
    if kind == "shape":
        return f"what shape is {colour} ?", shape, cell
    if kind == "count":
        return "how many shapes are there ?", COUNTS[len(scene.objects) - 1], -1
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
                 colour_jitter: int, mix: dict[str, float], max_objects: int = MAX_OBJECTS,
                 held_out=HELD_OUT, combos: str = "seen") -> dict[str, np.ndarray]:
    """``n`` examples: images (x), question tokens, answers (y), question
    kinds, caption tokens, objects per scene (n_objects), the cell asked
    about (target, -1 for counting) and whether the question is about a
    held-out combination (novel). With ``combos="novel"`` every question asks
    about a held-out object."""
    held = parse_combos(held_out)
    kinds = list(mix)
    weights = np.asarray([mix[k] for k in kinds], dtype=float)
    picks = rng.choice(len(kinds), n, p=weights / weights.sum())
    scenes = [random_scene(rng, max_objects, held, combos) for _ in range(n)]
    questions, answers, targets, novel, captions = [], [], [], [], []
    for scene, pick in zip(scenes, picks, strict=True):
        about = ([o for o in scene.objects if (o[0], o[1]) in held]
                 if combos == "novel" else None)
        question, answer, target = ask(scene, kinds[pick], rng, about)
        questions.append(encode(question, QUESTION_LEN))
        answers.append(ANSWERS.index(answer))
        targets.append(target)
        asked = [o for o in scene.objects if o[2] == target]
        novel.append(bool(asked) and (asked[0][0], asked[0][1]) in held)
        captions.append(encode(scene.caption(), CAPTION_LEN))
    return {
        "x": draw(scenes, rng, cell, noise, colour_jitter),
        "questions": np.stack(questions),
        "y": np.asarray(answers, dtype=np.int64),
        "kind": np.asarray([KINDS.index(kinds[p]) for p in picks], dtype=np.int64),
        "captions": np.stack(captions),
        "n_objects": np.asarray([len(s.objects) for s in scenes], dtype=np.int64),
        "target": np.asarray(targets, dtype=np.int64),
        "novel": np.asarray(novel, dtype=bool),
    }


def split_rng(seed: int, split: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), SPLITS[split]])


def make_split(split: str, seed: int, cfg: dict[str, Any]) -> dict[str, np.ndarray]:
    """One split as the `generate` stage writes it (``cfg``: the `generate`
    params). The compositional split asks colour and shape questions about
    held-out objects only."""
    compositional = split == "compositional"
    return make_dataset(
        int(cfg[split]), split_rng(seed, split), cell=int(cfg["cell"]),
        noise=float(cfg["noise"]), colour_jitter=int(cfg["colour_jitter"]),
        mix={"colour": 1.0, "shape": 1.0} if compositional else cfg["mix"],
        max_objects=int(cfg["max_objects"]), held_out=cfg["held_out"],
        combos="novel" if compositional else "seen")


# ----------------------------------------------------- the ideal observer


@lru_cache(maxsize=None)
def _templates(cell: int) -> tuple[np.ndarray, np.ndarray]:
    """Every shape at every size and place in a cell: (T, cell*cell) masks and
    the shape index of each."""
    masks, labels = [], []
    for s, shape in enumerate(SHAPES):
        for size in sizes(cell):
            for oy in range(cell - size + 1):
                for ox in range(cell - size + 1):
                    canvas = np.zeros((cell, cell), dtype=bool)
                    canvas[oy:oy + size, ox:ox + size] = shape_mask(shape, size)
                    masks.append(canvas.reshape(-1))
                    labels.append(s)
    return np.stack(masks).astype(np.float32), np.asarray(labels)


def read_images(x: np.ndarray, cell: int) -> tuple[np.ndarray, np.ndarray]:
    """What an observer who knows how images are drawn sees in each cell:
    (N, 9) shape index and colour index, -1 where a cell is empty.

    A pixel belongs to an object when its brightest channel is far above the
    background; a cell's object is the shape whose mask, at any size and
    place, differs from the cell's in the fewest pixels; its colour is the
    palette colour nearest the object's mean colour."""
    n = len(x)
    cells = (x.reshape(n, 3, 3, cell, 3, cell).transpose(0, 2, 4, 3, 5, 1)
             .reshape(n * 9, cell * cell, 3).astype(np.float32))
    on = cells.max(axis=2) > (BACKGROUND + min(max(c) for c in COLOURS.values())) / 2
    templates, labels = _templates(cell)
    onf = on.astype(np.float32)
    mismatch = onf.sum(1, keepdims=True) + templates.sum(1) - 2 * onf @ templates.T
    shape = labels[mismatch.argmin(1)]
    mean = (cells * onf[:, :, None]).sum(1) / np.maximum(onf.sum(1, keepdims=True), 1)
    palette = np.asarray(list(COLOURS.values()), dtype=np.float32)
    colour = ((mean[:, None, :] - palette[None]) ** 2).sum(2).argmin(1)
    empty = ~on.any(1)
    shape[empty], colour[empty] = -1, -1
    return shape.reshape(n, 9), colour.reshape(n, 9)


def ideal_answers(x: np.ndarray, questions: np.ndarray, cell: int) -> np.ndarray:
    """The answer (index into ANSWERS) of the ideal observer to each question."""
    shapes, colours = read_images(x, cell)
    out = np.full(len(x), -1, dtype=np.int64)
    for i, tokens in enumerate(questions):
        words = decode(tokens).split()
        if words[:2] == ["what", "colour"]:
            hit = np.flatnonzero(shapes[i] == SHAPES.index(words[4]))
            if len(hit):
                out[i] = colours[i, hit[0]]
        elif words[:2] == ["what", "shape"]:
            hit = np.flatnonzero(colours[i] == list(COLOURS).index(words[3]))
            if len(hit):
                out[i] = len(COLOURS) + shapes[i, hit[0]]
        else:
            count = int((shapes[i] >= 0).sum())
            if count:
                out[i] = len(COLOURS) + len(SHAPES) + count - 1
    return out


def per_kind(correct: np.ndarray, kind: np.ndarray) -> dict[str, float]:
    """Accuracy overall and per kind of question (kinds absent are left out)."""
    scores = {"all": float(correct.mean())}
    for k, name in enumerate(KINDS):
        if (kind == k).any():
            scores[name] = float(correct[kind == k].mean())
    return scores


# ---------------------------------------------------------------- lineage


def example_digests(*arrays: np.ndarray) -> np.ndarray:
    """One 64-bit fingerprint per example (row) of the given arrays: a model
    records those of the examples it learnt from, so anyone can tell which
    split it saw."""
    rows = [np.ascontiguousarray(a).reshape(len(a), -1) for a in arrays]
    out = np.empty(len(rows[0]), dtype=np.uint64)
    for i in range(len(out)):
        digest = hashlib.blake2b(digest_size=8)
        for row in rows:
            digest.update(row[i].tobytes())
        out[i] = int.from_bytes(digest.digest(), "little")
    return out
