"""Your fusion: a model that reads the question *and* looks at the right part
of the image.

"What colour is the square ?" has a different answer in every image, and the
image alone does not say which object is asked about: the question has to
pick the object (the square), the image has to give its colour. Joining the
two only at the end (``models.decision_level``) cannot do that. Cross-
attention can: each word of the question asks every cell of the image how
well it matches, and reads what the best-matching cells hold.

You write two things, in order (``pytest -q tests/test_fusion.py``):

1. ``attend``: scaled dot-product attention.
2. ``BindingFusion``: the question answerer. Build it from the encoders in
   ``models.py`` (``PatchEncoder`` gives one colour and one shape vector per
   cell, ``question_encoder`` one vector per question). ``forward`` returns
   one score (a logit) per answer in ``world.ANSWERS``; ``train`` trains it
   with cross-entropy, ``evaluate`` and dlpath measure it.

Tips: store the attention weights of the last forward pass in
``self.attention`` (N, 9): `evaluate` then reports how often the model looks
at the object asked about. Then run ``dvc repro`` and read
``metrics/evaluate.json``: the compositional split shows whether your model
understood colours and shapes or memorised which ones go together.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

# The building blocks for your model (see models.py and world.py).
from .models import PatchEncoder, mlp, question_encoder  # noqa: F401
from .world import ANSWER_KIND, ANSWERS, COLOURS, COUNTS, KINDS, SHAPES, VOCAB  # noqa: F401


def attend(query: torch.Tensor, keys: torch.Tensor,
           values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention.

    query: (N, Q, d), keys: (N, R, d), values: (N, R, e) ->
    (attended (N, Q, e), weights (N, Q, R)).

    Each of the Q queries scores each of the R keys by their dot product,
    scaled by the square root of d (so that the scores do not grow with the
    dimension); a softmax over the R keys turns the scores into weights that
    sum to 1; the query's result is the weighted sum of the values.
    """
    ### BEGIN SOLUTION: scaled dot-product attention (test: tests/test_fusion.py)
    scores = query @ keys.transpose(-2, -1) / keys.shape[-1] ** 0.5
    weights = scores.softmax(dim=-1)
    return weights @ values, weights
    ### END SOLUTION


class BindingFusion(nn.Module):
    """Answers a question about an image: (images (N, 3, H, W), questions
    (N, QUESTION_LEN)) -> (N, len(ANSWERS)) logits.

    ``cfg`` holds the `model` params and the cell size (``models.model_config``):
    pass it to ``PatchEncoder(cfg)`` and ``question_encoder(cfg)``; ``cfg["dim"]``
    and ``cfg["hidden"]`` are the sizes for your own layers.
    """

    def __init__(self, cfg: dict[str, Any]):
        super().__init__()
        ### BEGIN SOLUTION: a fusion that binds (test: tests/test_fusion.py)
        dim, hidden = cfg["dim"], cfg["hidden"]
        self.image = PatchEncoder(cfg)
        self.question = question_encoder(cfg)
        colour_dim, shape_dim = self.image.colour_dim, self.image.shape_dim
        # Every word of the question queries the cells, in two ways: by shape
        # ("the square") against keys made of the cells' shape features only,
        # and by colour ("red") against keys made of their colour features
        # only. Finding "red" then cannot learn to avoid circles because no
        # red circle was ever seen. Queries and keys are layer-normalised
        # ("QK-norm"): the scores start on a steady scale and attention
        # learns to focus in a few epochs.
        self.words = nn.Embedding(len(VOCAB), dim, padding_idx=0)
        self.query_shape = nn.Sequential(nn.Linear(dim, dim), nn.LayerNorm(dim))
        self.key_shape = nn.Sequential(nn.Linear(shape_dim, dim), nn.LayerNorm(dim))
        self.query_colour = nn.Sequential(nn.Linear(dim, dim), nn.LayerNorm(dim))
        self.key_colour = nn.Sequential(nn.Linear(colour_dim, dim), nn.LayerNorm(dim))
        # Which words matter (learnt: "square", "red"; not "what", "is").
        self.salience = nn.Linear(dim, 1)
        # What to say: the question picks the kind of answer; its value comes
        # from the image only, the other attribute of the object found: its
        # colour when found by shape, its shape when found by colour. No path
        # leads from the question to the answer's value.
        self.kind = nn.Linear(dim, len(KINDS))
        self.colour = mlp(colour_dim, hidden, len(COLOURS))
        self.shape = mlp(shape_dim, hidden, len(SHAPES))
        self.count = mlp(colour_dim + shape_dim, hidden, len(COUNTS))
        self.attention = None
        ### END SOLUTION

    def forward(self, images: torch.Tensor, questions: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION: a fusion that binds (test: tests/test_fusion.py)
        cells = self.image(images)
        words = self.words(questions.long())  # (N, L, dim)
        by_shape, on_shape = attend(self.query_shape(words), self.key_shape(cells.shape),
                                    cells.colour)  # each word's view of the cells' colours
        by_colour, on_colour = attend(self.query_colour(words), self.key_colour(cells.colour),
                                      cells.shape)  # ... and of their shapes
        salience = self.salience(words).squeeze(-1).masked_fill(questions == 0, float("-inf"))
        weight = salience.softmax(dim=1)[..., None]  # (N, L, 1)
        kind = self.kind(self.question(questions)).log_softmax(dim=1)
        within = torch.cat([self.colour((weight * by_shape).sum(dim=1)).log_softmax(dim=1),
                            self.shape((weight * by_colour).sum(dim=1)).log_softmax(dim=1),
                            self.count(cells.joined().mean(dim=1)).log_softmax(dim=1)], dim=1)
        # The cells it looked at: found by shape for colour questions, by colour otherwise.
        colour_question = (kind.argmax(dim=1) == 0)[:, None]
        self.attention = torch.where(colour_question, (weight * on_shape).sum(dim=1),
                                     (weight * on_colour).sum(dim=1)).detach()
        return within + kind[:, torch.as_tensor(ANSWER_KIND, device=kind.device)]
        ### END SOLUTION
