"""Which attribution code runs: yours (methods.py) or, until you write it,
Captum's (the library baseline), and the pieces every stage shares.

Every stage that explains asks :func:`explainer` for a method. While your
function is still a TODO stub, the stage uses Captum's implementation so the
pipeline runs end to end and you can see what to expect, and it records
``not_implemented``: its metrics are then filed under ``captum_<method>``,
never under the method's own name, which only your code fills in.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from . import methods
from .cnn import DigitsCNN
from .common import learner_code, load_params

METHODS = ("integrated_gradients", "grad_cam")
TITLES = {"integrated_gradients": "Integrated Gradients", "grad_cam": "Grad-CAM"}
SHORT = {"integrated_gradients": "IG", "grad_cam": "Grad-CAM"}
# Layers from the output down, as cascading randomisation resets them.
LAYERS = ("head.3", "head.1", "features.2", "features.0")
LAYER_NAMES = {"head.3": "logits", "head.1": "fc", "features.2": "conv2", "features.0": "conv1"}


def load_model(path: str = "models/cnn.pt", device: torch.device | None = None) -> DigitsCNN:
    params = load_params()
    model = DigitsCNN(params["train"]["channels"])
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.to(device or torch.device("cpu")).eval()


def cam_layer(model: nn.Module) -> nn.Module:
    """The layer Grad-CAM looks at: the last convolutional block's activations
    (8x8, the input's resolution, before pooling)."""
    return model.features[3]


def randomised(model: nn.Module, layers: tuple[str, ...] | list[str], seed: int) -> nn.Module:
    """A copy of ``model`` with the named layers re-initialised (seeded); the
    original is left as it was."""
    fresh = copy.deepcopy(model)
    modules = dict(fresh.named_modules())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for name in layers:
            modules[name].reset_parameters()
    return fresh.eval()


@dataclass(frozen=True)
class Explainer:
    method: str
    #: "you" (methods.py) or "captum" (the library baseline)
    by: str
    fn: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]

    @property
    def key(self) -> str:
        """Where its metrics go: the method's name for your code only."""
        return self.method if self.by == "you" else f"captum_{self.method}"

    @property
    def label(self) -> str:
        title = TITLES[self.method]
        return title if self.by == "you" else f"{title} (Captum's, until you write yours)"

    @property
    def short(self) -> str:
        """A label for figures."""
        return SHORT[self.method] + ("" if self.by == "you" else " (Captum)")

    def __call__(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Attributions at the input's resolution, on the CPU."""
        device = next(model.parameters()).device
        out = self.fn(model, x.to(device), target.to(device))
        if out.shape[-2:] != x.shape[-2:]:  # a coarser layer: upsample to the input
            out = nn.functional.interpolate(out, size=x.shape[-2:], mode="bilinear",
                                            align_corners=False)
        return out.detach().cpu()


def _yours(method: str, steps: int):
    if method == "integrated_gradients":
        return lambda m, x, t: methods.integrated_gradients(m, x, t, steps=steps)
    return lambda m, x, t: methods.grad_cam(m, x, t, cam_layer(m))


def captum_fn(method: str, steps: int = 32):
    """Captum's implementation of ``method`` (the library baseline, and the
    reference your code is compared with)."""
    from captum.attr import IntegratedGradients, LayerGradCam

    if method == "integrated_gradients":
        return lambda m, x, t: IntegratedGradients(m).attribute(
            x, baselines=torch.zeros_like(x), target=t, n_steps=steps)
    return lambda m, x, t: LayerGradCam(m, cam_layer(m)).attribute(
        x, target=t, relu_attributions=True)


def explainer(method: str, todo: list[str], steps: int = 32) -> Explainer:
    """Your implementation of ``method`` when it runs, else Captum's (noted in
    ``todo``). A small trial call tells a stub from working code; any other
    error in your code stops the stage with its traceback."""
    if method not in METHODS:
        raise ValueError(f"unknown attribution method {method!r}; known: {', '.join(METHODS)}")
    fn = _yours(method, steps)
    with learner_code(todo), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        trial = DigitsCNN(channels=4).eval()
        fn(trial, torch.rand(2, 1, 8, 8), torch.tensor([0, 1]))
        return Explainer(method, "you", fn)
    return Explainer(method, "captum", captum_fn(method, steps))


def explainers(todo: list[str], steps: int = 32) -> list[Explainer]:
    return [explainer(m, todo, steps) for m in METHODS]
