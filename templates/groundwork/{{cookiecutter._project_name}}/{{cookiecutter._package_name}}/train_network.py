"""Stage `network`: train your NumPy network (exercises/network.py) on the
digits, and PyTorch's version of it for comparison.

* The baseline: the same architecture (64 -> hidden -> 10, tanh) trained by
  PyTorch (autograd and torch.optim.SGD with momentum), with the same
  settings. It runs from the first `dvc repro`, before you write any code.
* Yours: `network.train` with your forward, backward and Momentum optimiser.
  Its weights go to models/network.npz (dlpath re-measures them), its
  accuracy to metrics/network.json, next to the baseline's.
* Then PyTorch's autograd computes the gradients of your trained network on
  a batch of training digits (`network.torch_gradients`), and
  metrics/network.json records how far they are from your backward's
  (`torch_gradient_error`, the largest relative error over the parameters).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from exercises import backprop, network  # noqa: E402
from exercises.optimisers import Momentum  # noqa: E402

from .common import learner_code, load_params, load_split, set_seed, write_json  # noqa: E402

MODEL = Path("models/network.npz")


def flat(split: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(n, 64) float64 pixels in [0, 1] and integer labels."""
    return split["x"].reshape(len(split["x"]), -1).astype(np.float64), split["y"]


def baseline(x: np.ndarray, y: np.ndarray, cfg: dict, seed: int):
    """The same network trained by PyTorch; (model, mean loss per epoch)."""
    set_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], cfg["hidden"]), torch.nn.Tanh(),
                                torch.nn.Linear(cfg["hidden"], 10)).double()
    optimiser = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["beta"])
    xt, yt = torch.from_numpy(x), torch.from_numpy(y).long()
    generator = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(cfg["epochs"]):
        total = 0.0
        for batch in torch.randperm(len(x), generator=generator).split(cfg["batch_size"]):
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[batch]), yt[batch])
            loss.backward()
            optimiser.step()
            total += float(loss) * len(batch)
        history.append(total / len(x))
    return model, history


def torch_accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def main() -> None:
    params = load_params()
    cfg, seed = params["network"], params["seed"]
    torch.set_num_threads(1)  # a small network: one thread is fastest
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (
        flat(load_split(f"data/prepared/{part}.npz")) for part in ("train", "val", "test"))
    model, base_history = baseline(x_train, y_train, cfg, seed)
    metrics: dict = {"baseline": {"val_accuracy": torch_accuracy(model, x_val, y_val),
                                  "test_accuracy": torch_accuracy(model, x_test, y_test)}}
    todo: list[str] = []
    history = None
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    with learner_code(todo):
        net, history = network.train(
            x_train, y_train, hidden=cfg["hidden"], epochs=cfg["epochs"],
            batch_size=cfg["batch_size"], optimiser=Momentum(lr=cfg["lr"], beta=cfg["beta"]),
            seed=seed)
        np.savez(MODEL, **{name: net[name] for name in backprop.PARAMS})
        metrics["numpy"] = {"val_accuracy": network.accuracy(net, x_val, y_val),
                            "test_accuracy": network.accuracy(net, x_test, y_test),
                            "final_train_loss": float(history[-1])}
        batch = slice(0, 64)
        _, cache = backprop.forward(net, x_train[batch], y_train[batch])
        ours = backprop.backward(net, cache)
        theirs = network.torch_gradients(net, x_train[batch], y_train[batch])
        metrics["torch_gradient_error"] = max(
            backprop.relative_error(ours[name], np.asarray(theirs[name]))
            for name in backprop.PARAMS)
    if "numpy" not in metrics:  # the stage's output exists, and says why it holds no weights
        np.savez(MODEL, not_implemented=np.array(todo))
    if todo:
        metrics["not_implemented"] = todo
    write_json("metrics/network.json", metrics)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.arange(1, len(base_history) + 1), base_history, label="PyTorch baseline")
    if history is not None:
        ax.plot(np.arange(1, len(history) + 1), history, label="your NumPy network")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean training loss")
    ax.set_yscale("log")
    ax.legend()
    Path("plots").mkdir(exist_ok=True)
    fig.tight_layout()
    fig.savefig("plots/network.png", dpi=80)
    plt.close(fig)
    print(f"network: baseline test accuracy {metrics['baseline']['test_accuracy']:.3f}"
          + (f", yours {metrics['numpy']['test_accuracy']:.3f}" if "numpy" in metrics else ""))


if __name__ == "__main__":
    main()
