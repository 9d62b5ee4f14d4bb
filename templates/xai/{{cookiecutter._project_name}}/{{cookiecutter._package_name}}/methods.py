"""Attribution methods, written by you: which pixels made the model say that?

Two families, so that each can check the other:

* **Integrated Gradients** (Sundararajan et al., 2017, "Axiomatic
  Attribution for Deep Networks") is a *path* method: it integrates the
  gradient of the class score along the straight line from a baseline image
  (black, by default) to the input. It satisfies *completeness*: the
  attributions add up to the score of the input minus the score of the
  baseline. That is your first test.
* **Grad-CAM** (Selvaraju et al., 2017) is an *activation* method: it looks
  at a convolutional layer's feature maps and weighs each channel by how much
  the class score's gradient says that channel matters. Its maps are coarse
  (one value per position of the layer), positive only, and depend on what
  the layer learned rather than on the input's pixel values.

Both take a batch and explain each example for its own ``target`` class. Use
plain PyTorch (``torch.autograd.grad``, hooks): this file must not import
Captum. The pipeline compares your results with Captum's (``explain`` stage),
and falls back to Captum's while a function here is still a TODO.
"""

from __future__ import annotations

import torch
from torch import nn


def integrated_gradients(model: nn.Module, x: torch.Tensor, target: torch.Tensor,
                         baseline: torch.Tensor | None = None, steps: int = 32) -> torch.Tensor:
    """Integrated Gradients of ``model``'s output for class ``target[i]`` at
    each input ``x[i]``.

    x: (N, ...) inputs on the model's device; target: (N,) class indices;
    baseline: a tensor like ``x`` (default: zeros, a black image); steps: the
    number of points at which the path integral is approximated (a Riemann
    sum: the midpoint rule converges fastest).

    Returns a tensor shaped like ``x``, detached, on ``x``'s device. The
    model's parameters and ``x`` must be left as they were (no gradients
    accumulated in ``.grad``).

    Approach: build the ``steps`` points on the line from the baseline to x
    for the whole batch at once (a tensor of steps * N inputs), take the
    gradient of the selected class scores with respect to those points,
    average it over the path, and multiply by the difference between the
    input and the baseline. Check completeness on your own model before
    running the tests.
    """
    ### BEGIN SOLUTION: Integrated Gradients (test: tests/test_methods.py)
    if baseline is None:
        baseline = torch.zeros_like(x)
    baseline = baseline.to(x.device, x.dtype).expand_as(x)
    n, shape = x.shape[0], x.shape[1:]
    alphas = (torch.arange(steps, device=x.device, dtype=x.dtype) + 0.5) / steps
    alphas = alphas.view(steps, 1, *([1] * len(shape)))
    path = (baseline + alphas * (x - baseline)).reshape(steps * n, *shape)
    path = path.detach().requires_grad_(True)
    scores = model(path).gather(1, target.to(x.device).repeat(steps).view(-1, 1))
    (grads,) = torch.autograd.grad(scores.sum(), path)
    mean_grad = grads.view(steps, n, *shape).mean(dim=0)
    return ((x - baseline) * mean_grad).detach()
    ### END SOLUTION


def grad_cam(model: nn.Module, x: torch.Tensor, target: torch.Tensor,
             layer: nn.Module) -> torch.Tensor:
    """Grad-CAM of ``model``'s output for class ``target[i]`` at ``layer``.

    layer: a module inside ``model`` whose output is a batch of feature maps
    (N, C, h, w), e.g. the last convolutional block.

    Returns (N, 1, h, w), detached, at the layer's resolution: for each
    example, the channels of the layer's output weighted by the spatial mean
    of the class score's gradient with respect to that channel, summed over
    channels, negative values set to zero (the ReLU of the paper: only what
    speaks *for* the class).

    Approach: a forward hook (``layer.register_forward_hook``) captures the
    layer's output during one forward pass; ``torch.autograd.grad`` gives
    the gradient of the selected scores with respect to it. Remove the hook
    afterwards, even when something fails.
    """
    ### BEGIN SOLUTION: Grad-CAM (test: tests/test_methods.py)
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda _m, _i, output: captured.append(output))
    try:
        scores = model(x)
    finally:
        handle.remove()
    activations = captured[0]
    selected = scores.gather(1, target.to(scores.device).view(-1, 1)).sum()
    (grads,) = torch.autograd.grad(selected, activations)
    weights = grads.mean(dim=(2, 3), keepdim=True)
    return torch.relu((weights * activations).sum(dim=1, keepdim=True)).detach()
    ### END SOLUTION
