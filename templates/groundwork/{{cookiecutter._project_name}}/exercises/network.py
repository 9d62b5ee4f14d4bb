"""Exercise 11: your own network, trained on real handwritten digits; then
the same network in PyTorch.

Everything is in place: the two-layer network and its gradients (exercise
4), an optimiser (exercise 9), vectorised NumPy (exercise 2). Put them
together into a training loop, the same loop every framework runs:

    for each epoch:
        shuffle the training set, cut it into minibatches
        for each minibatch: forward -> loss and cache, backward -> gradients,
                            optimiser.step(params, gradients)

The `network` stage (`dvc repro`) trains it on scikit-learn's 8x8 digits
(64 inputs, 10 classes) with the settings in params.yaml, keeps the weights
in models/network.npz and writes the accuracy on the test split to
metrics/network.json. The goal: at least 95% test accuracy. `dlpath check`
measures your saved network itself, on a split it makes from the digits.
Tune on the validation split (metrics/network.json has both), never on the
test split.

Then meet PyTorch: build the *same* network with torch.nn (same weights),
let autograd compute the gradients, and compare them with yours: they agree
to about 1e-12, because autograd does exactly what you did in exercise 4.
Watch the layout: nn.Linear keeps its weight as (out_features,
in_features), the transpose of your w1 and w2.

The rules (the tests check them): `train` uses your `forward` and
`backward` from exercise 4 for every minibatch and the optimiser it is
given for every step (no PyTorch, no scikit-learn in it); `predict` and
`torch_network` compute the network of exercise 4, in float64.

Run the tests:  python -m pytest -q tests/test_network.py
Check it:       dlpath check -m network      (stuck? dlpath hint network)
"""

from __future__ import annotations

import numpy as np

from exercises.backprop import PARAMS, backward, forward, init_params


def minibatches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A random permutation of range(n) cut into index arrays of batch_size
    (the last one may be smaller) (given)."""
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def train(x: np.ndarray, y: np.ndarray, *, hidden: int, epochs: int, batch_size: int,
          optimiser, seed: int = 0, classes: int = 10):
    """Train the network of exercise 4 on x (n, d), integer labels y (n,).

    Start from init_params(d, hidden, classes, seed); shuffle with
    np.random.default_rng(seed). Return (params, history): the trained
    parameters and the mean training loss of each epoch (a list of floats).
    """
    ### BEGIN SOLUTION: a training loop (test: tests/test_network.py)
    rng = np.random.default_rng(seed)
    params = init_params(x.shape[1], hidden, classes, seed)
    history = []
    for _ in range(epochs):
        total = 0.0
        for batch in minibatches(len(x), batch_size, rng):
            loss, cache = forward(params, x[batch], y[batch])
            optimiser.step(params, backward(params, cache))
            total += loss * len(batch)
        history.append(total / len(x))
    return params, history
    ### END SOLUTION


def predict(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The predicted class of each row of x: an integer array (n,)."""
    ### BEGIN SOLUTION: predictions (test: tests/test_network.py)
    hidden = np.tanh(x @ params["w1"] + params["b1"])
    return (hidden @ params["w2"] + params["b2"]).argmax(axis=1)
    ### END SOLUTION


def accuracy(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    """The fraction of rows of x whose prediction is right (given)."""
    return float((predict(params, x) == y).mean())


def torch_network(params: dict[str, np.ndarray]):
    """A torch.nn.Sequential (Linear, Tanh, Linear) in float64 (.double())
    holding copies of these weights: the same function as exercise 4's
    network."""
    ### BEGIN SOLUTION: the network in PyTorch (test: tests/test_network.py)
    import torch

    d, h = params["w1"].shape
    model = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.Tanh(),
                                torch.nn.Linear(h, params["w2"].shape[1])).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(params["w1"].T))
        model[0].bias.copy_(torch.from_numpy(params["b1"]))
        model[2].weight.copy_(torch.from_numpy(params["w2"].T))
        model[2].bias.copy_(torch.from_numpy(params["b2"]))
    return model
    ### END SOLUTION


def torch_gradients(params: dict[str, np.ndarray], x: np.ndarray,
                    y: np.ndarray) -> dict[str, np.ndarray]:
    """The gradients of the mean cross-entropy of torch_network(params) on
    (x, y), computed by PyTorch's autograd, as NumPy arrays named and shaped
    like backward's."""
    ### BEGIN SOLUTION: gradients from autograd (test: tests/test_network.py)
    import torch

    model = torch_network(params)
    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x).double()),
                                             torch.from_numpy(np.asarray(y)).long())
    loss.backward()
    first, second = model[0], model[2]
    return {"w1": first.weight.grad.numpy().T.copy(), "b1": first.bias.grad.numpy().copy(),
            "w2": second.weight.grad.numpy().T.copy(), "b2": second.bias.grad.numpy().copy()}
    ### END SOLUTION


__all__ = ["PARAMS", "accuracy", "backward", "forward", "init_params", "minibatches",
           "predict", "torch_gradients", "torch_network", "train"]
