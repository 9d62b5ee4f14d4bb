"""The building blocks: an encoder for each modality, the two single-modality
baselines, the decision-level fusion of their answers, the CLIP-style dual
encoder, and saving a model with a record of the data it learnt from.

Inputs arrive as float tensors (``common.tensors``): images as 0..255 pixel
values, token ids as whole numbers. The encoders scale or cast them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from .world import ANSWERS, CAPTION_LEN, QUESTION_LEN, VOCAB

# A pixel is lit when its brightest channel is above this (0..1): the
# background is near 0.08, the darkest colour's brightest channel near 0.6.
LIT = 0.35


def model_config(params: dict[str, Any]) -> dict[str, Any]:
    """What every model is built from: the `model` params and the cell size."""
    return {**params["model"], "cell": int(params["generate"]["cell"])}


class Regions(NamedTuple):
    """One feature vector per cell of the 3x3 grid, in reading order."""

    colour: torch.Tensor  # (N, 9, colour_dim): what colour is in the cell
    shape: torch.Tensor   # (N, 9, shape_dim): what shape is in the cell

    def joined(self) -> torch.Tensor:
        """(N, 9, colour_dim + shape_dim): colour features first."""
        return torch.cat([self.colour, self.shape], dim=-1)


class PatchEncoder(nn.Module):
    """Images -> ``Regions``: the image cut into its nine cells (patches, as a
    Vision Transformer cuts its input), each described twice.

    * colour: from the brightest value of each colour channel in the cell,
      so it cannot depend on the shape drawn there;
    * shape: from which pixels of the cell are lit (their brightest channel
      well above the background), so it cannot depend on the colour (a
      brightness pattern would: green is drawn darker than white).

    Keeping the two apart is a choice: a red circle is then "red" plus
    "circle", even if no red circle was ever in the training data.
    """

    def __init__(self, cfg: dict[str, Any]):
        super().__init__()
        self.cell = int(cfg["cell"])
        self.colour_dim, self.shape_dim = int(cfg["colour_dim"]), int(cfg["shape_dim"])
        self.colour = nn.Sequential(nn.Linear(3, self.colour_dim), nn.ReLU())
        self.shape = nn.Sequential(
            nn.Linear(self.cell * self.cell, cfg["hidden"]), nn.ReLU(),
            nn.Linear(cfg["hidden"], self.shape_dim), nn.ReLU())

    @property
    def dim(self) -> int:
        return self.colour_dim + self.shape_dim

    def forward(self, images: torch.Tensor) -> Regions:
        x = images / 255.0
        n, c = len(x), self.cell
        brightest = nn.functional.max_pool2d(x, c).flatten(2).transpose(1, 2)  # (N, 9, 3)
        lit = (x.amax(dim=1) > LIT).float()  # which pixels show an object, whatever its colour
        pattern = lit.unfold(1, c, c).unfold(2, c, c).reshape(n, 9, c * c)
        return Regions(self.colour(brightest), self.shape(pattern))


class TextEncoder(nn.Module):
    """(N, L) token ids, 0-padded -> (N, dim) features.

    Each word gets an embedding plus an embedding of its position, and an MLP
    reads the whole fixed-length sentence, so word order counts ("red circle
    top left and blue square ..." ties each colour to the shape after it).
    """

    def __init__(self, embed: int, dim: int, length: int):
        super().__init__()
        self.words = nn.Embedding(len(VOCAB), embed, padding_idx=0)
        self.positions = nn.Parameter(torch.zeros(length, embed))
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(length * embed, dim), nn.ReLU())

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.words(tokens.long()) + self.positions)


def question_encoder(cfg: dict[str, Any]) -> TextEncoder:
    return TextEncoder(cfg["embed"], cfg["dim"], QUESTION_LEN)


def mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    """Linear -> ReLU -> Linear."""
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, d_out))


class ImageOnly(nn.Module):
    """Baseline: answers from the image, never seeing the question.

    The cells are pooled (max: what is there; mean: how much of it), so it
    knows which colours and shapes are present and how many objects."""

    def __init__(self, cfg: dict[str, Any]):
        super().__init__()
        self.image = PatchEncoder(cfg)
        self.head = mlp(2 * self.image.dim, cfg["dim"], len(ANSWERS))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        cells = self.image(images).joined()
        return self.head(torch.cat([cells.amax(dim=1), cells.mean(dim=1)], dim=1))


class TextOnly(nn.Module):
    """Baseline: answers from the question, never seeing the image."""

    def __init__(self, cfg: dict[str, Any]):
        super().__init__()
        self.text = question_encoder(cfg)
        self.head = mlp(cfg["dim"], cfg["dim"], len(ANSWERS))

    def forward(self, questions: torch.Tensor) -> torch.Tensor:
        return self.head(self.text(questions))


# name -> (model class, the arrays of a split it reads, in order)
BASELINES: dict[str, tuple[type[nn.Module], tuple[str, ...]]] = {
    "image_only": (ImageOnly, ("x",)),
    "text_only": (TextOnly, ("questions",)),
}


def decision_level(image_logits: torch.Tensor, text_logits: torch.Tensor) -> torch.Tensor:
    """Decision-level (late) fusion: each model answers alone and their
    answers are combined, log p(a | image) + log p(a | question), normalised
    (a product of experts). Neither model ever sees what the other sees, so
    this cannot tell which colour belongs to *the square*: it is the
    baseline a fusion that binds must beat."""
    combined = image_logits.log_softmax(dim=1) + text_logits.log_softmax(dim=1)
    return combined.log_softmax(dim=1)


class DualEncoder(nn.Module):
    """CLIP in miniature: images and captions mapped into one space where a
    matching pair points the same way (unit vectors, cosine similarity).

    ``logit_scale`` is the log of the inverse temperature of the contrastive
    loss, learnt with the rest (CLIP starts it at log(1/0.07))."""

    def __init__(self, cfg: dict[str, Any]):
        super().__init__()
        dim = cfg["dim"]
        self.image = PatchEncoder(cfg)
        self.where = nn.Parameter(torch.zeros(9, self.image.dim))  # captions name the cells
        self.image_head = nn.Sequential(nn.Flatten(), mlp(9 * self.image.dim, 2 * dim, dim))
        self.text = TextEncoder(cfg["embed"], 2 * dim, CAPTION_LEN)
        self.text_head = nn.Linear(2 * dim, dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / cfg["temperature"])))

    def embed_images(self, images: torch.Tensor) -> torch.Tensor:
        cells = self.image(images).joined() + self.where
        return nn.functional.normalize(self.image_head(cells), dim=1)

    def embed_texts(self, tokens: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.text_head(self.text(tokens)), dim=1)

    @property
    def temperature(self) -> float:
        return float(torch.exp(-self.logit_scale.detach()))


# ------------------------------------------------------------ saving models


def save_model(path: str | Path, model: nn.Module, cfg: dict[str, Any], *, seed: int,
               trained_on: np.ndarray, selected_on: np.ndarray) -> None:
    """Save the weights with what rebuilds the model (its config) and a record
    of the examples it learnt from (``trained_on``) and was chosen on
    (``selected_on``): one fingerprint per example (``world.example_digests``).
    dlpath compares them with the splits it regenerates: a model that saw the
    test split is caught."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "config": dict(cfg),
        "seed": int(seed),
        "trained_on": torch.from_numpy(np.asarray(trained_on, dtype=np.uint64).view(np.int64)),
        "selected_on": torch.from_numpy(np.asarray(selected_on, dtype=np.uint64).view(np.int64)),
    }, path)


def load_model(path: str | Path, model_class: type[nn.Module]) -> tuple[nn.Module, dict]:
    """The model saved at ``path`` (on the CPU, in eval mode) and the whole record."""
    record = torch.load(path, map_location="cpu", weights_only=True)
    model = model_class(record["config"])
    model.load_state_dict(record["state_dict"])
    return model.eval(), record
