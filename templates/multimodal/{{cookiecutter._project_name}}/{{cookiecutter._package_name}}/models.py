"""Encoders for each modality, the three question answerers built from them,
and the contrastive dual encoder.

Inputs arrive as float tensors (``common.tensors``): images as uint8 values
0..255, token ids as whole numbers. The encoders scale or cast them.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .world import ANSWERS, CAPTION_LEN, QUESTION_LEN, VOCAB


class ImageEncoder(nn.Module):
    """A small CNN: (N, 3, H, W) images -> (N, dim) features.

    Two strided convolutions see about one cell of the scene each. With
    ``grid=3`` the map is pooled to 3x3, one value per cell, so the features
    keep *where* things are (captions name the cells). Without, it is pooled
    over the whole image (max: what is there; mean: how much of it), which is
    all a question about colours, shapes and counts needs.
    """

    def __init__(self, channels: int, dim: int, grid: int | None = None):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(3, channels, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1), nn.ReLU(),
        )
        self.grid = grid
        features = 2 * channels * (grid * grid if grid else 2)
        self.out = nn.Sequential(nn.Linear(features, dim), nn.ReLU())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        maps = self.conv(images / 255.0)
        if self.grid:
            pooled = nn.functional.adaptive_max_pool2d(maps, self.grid).flatten(1)
        else:
            pooled = torch.cat([maps.amax(dim=(2, 3)), maps.mean(dim=(2, 3))], dim=1)
        return self.out(pooled)


class TextEncoder(nn.Module):
    """(N, L) token ids, 0-padded -> (N, dim) features.

    Each word gets an embedding plus an embedding of its position, and an MLP
    reads the whole fixed-length sequence: order matters ("red circle top
    left and blue square ..." binds each colour to the shape after it).
    """

    def __init__(self, embed: int, dim: int, length: int):
        super().__init__()
        self.words = nn.Embedding(len(VOCAB), embed, padding_idx=0)
        self.positions = nn.Parameter(torch.zeros(length, embed))
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(length * embed, dim), nn.ReLU())

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.words(tokens.long()) + self.positions)


def head(dim: int) -> nn.Module:
    return nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, len(ANSWERS)))


class ImageOnly(nn.Module):
    """Baseline: answers from the image, never seeing the question."""

    def __init__(self, cfg: dict[str, Any]):
        super().__init__()
        self.image = ImageEncoder(cfg["channels"], cfg["dim"])
        self.head = head(cfg["dim"])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.image(images))


class TextOnly(nn.Module):
    """Baseline: answers from the question, never seeing the image."""

    def __init__(self, cfg: dict[str, Any]):
        super().__init__()
        self.text = TextEncoder(cfg["embed"], cfg["dim"], QUESTION_LEN)
        self.head = head(cfg["dim"])

    def forward(self, questions: torch.Tensor) -> torch.Tensor:
        return self.head(self.text(questions))


class LateFusion(nn.Module):
    """Each modality is encoded on its own; the two feature vectors are joined
    only at the end, and a small MLP answers from both."""

    def __init__(self, cfg: dict[str, Any]):
        super().__init__()
        self.image = ImageEncoder(cfg["channels"], cfg["dim"])
        self.text = TextEncoder(cfg["embed"], cfg["dim"], QUESTION_LEN)
        self.head = head(2 * cfg["dim"])

    def forward(self, images: torch.Tensor, questions: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.image(images), self.text(questions)], dim=1))


# name -> (model class, the arrays it reads, in order)
ANSWERERS: dict[str, tuple[type[nn.Module], tuple[str, ...]]] = {
    "image_only": (ImageOnly, ("x",)),
    "text_only": (TextOnly, ("questions",)),
    "fused": (LateFusion, ("x", "questions")),
}


class DualEncoder(nn.Module):
    """CLIP in miniature: images and captions mapped into one space where a
    matching pair points the same way (unit vectors, cosine similarity)."""

    def __init__(self, cfg: dict[str, Any]):
        super().__init__()
        dim = cfg["dim"]
        self.image = nn.Sequential(ImageEncoder(cfg["channels"], dim, grid=3),
                                   nn.Linear(dim, dim))
        self.text = nn.Sequential(TextEncoder(cfg["embed"], dim, CAPTION_LEN), nn.Linear(dim, dim))

    def embed_images(self, images: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.image(images), dim=1)

    def embed_texts(self, tokens: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.text(tokens), dim=1)


def info_nce(image_emb: torch.Tensor, text_emb: torch.Tensor,
             temperature: float) -> torch.Tensor:
    """The symmetric InfoNCE loss of CLIP: in a batch of N pairs, each image
    must pick its own caption among N (and each caption its image)."""
    logits = image_emb @ text_emb.T / temperature
    target = torch.arange(len(logits), device=logits.device)
    return (nn.functional.cross_entropy(logits, target)
            + nn.functional.cross_entropy(logits.T, target)) / 2
