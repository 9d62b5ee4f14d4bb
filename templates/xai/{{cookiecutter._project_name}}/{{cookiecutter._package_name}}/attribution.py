"""Attributions with Captum: which pixels pushed the model towards its answer?

* Integrated Gradients integrates the gradient along a straight path from a
  baseline (a black image) to the input; the attributions add up to the
  difference in the model's output (the *completeness* axiom).
* Saliency is the plain gradient's magnitude: cheap, noisier.
"""

from __future__ import annotations

import torch
from captum.attr import IntegratedGradients, Saliency

from .cnn import DigitsCNN
from .common import load_params

METHODS = ("integrated_gradients", "saliency")


def load_model(path: str = "models/cnn.pt", device: torch.device | None = None) -> DigitsCNN:
    params = load_params()
    model = DigitsCNN(params["train"]["channels"])
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.to(device or torch.device("cpu")).eval()


def attribute(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor,
              method: str = "integrated_gradients", steps: int = 32) -> torch.Tensor:
    """Attributions with the shape of ``x`` for class ``target`` of each example.

    Runs on the model's device and returns a CPU tensor.
    """
    device = next(model.parameters()).device
    x = x.to(device).clone().requires_grad_(True)
    target = target.to(device)
    if method == "integrated_gradients":
        attr = IntegratedGradients(model).attribute(
            x, baselines=torch.zeros_like(x), target=target, n_steps=steps)
    elif method == "saliency":
        attr = Saliency(model).attribute(x, target=target, abs=True)
    else:
        raise ValueError(f"unknown attribution method {method!r}; known: {', '.join(METHODS)}")
    return attr.detach().cpu()
