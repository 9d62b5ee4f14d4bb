"""Stage `contrastive`: a CLIP-style dual encoder trained with InfoNCE on
(image, caption) pairs, chosen on the validation split, reported once on the
test split, and used for zero-shot classification.

You write two functions (``pytest -q tests/test_contrastive.py``):

1. ``hits_at_k``: which queries find a relevant item among their k best
   (its mean is recall@k);
2. ``info_nce``: the symmetric contrastive loss, with a learnt temperature.

Retrieval (image -> text): each test image ranks every test caption by
cosine similarity; a hit is a correct caption among the top k. Two scenes
can have the same caption ("red circle top left"): any caption identical to
the image's own counts as correct. Text -> image is the same the other way.
The epoch is chosen on the validation split; the test split is read once,
after training, and broken down by the number of objects in the scene and by
whether its caption occurs in the training split.

Zero-shot classification: an image of one object is "classified" by scoring
the captions of every possible object (20 colour-shape pairs, in any of the
9 cells) and reading off the best one's colour and shape. Nothing was ever
trained to classify, and the held-out pairs (a red circle...) were never
seen at all, in pictures or in words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .common import (
    EpochLog,
    adam,
    learner_code,
    load_params,
    load_split,
    pick_device,
    set_seed,
    set_threads,
    write_json,
)
from .models import DualEncoder, model_config, save_model
from .runs import one_process
from .training import placeholder_record
from .world import CAPTION_LEN, COLOURS, SHAPES, Scene, decode, encode, example_digests

KS = (1, 5, 10)
MAX_SCALE = 100.0  # the cap on exp(logit_scale), as in CLIP
MODEL = Path("models/dual_encoder/model.pt")


def hits_at_k(similarity: np.ndarray, relevant: np.ndarray, k: int) -> np.ndarray:
    """For each query (row of ``similarity``, shape (Q, G)), whether one of
    its ``k`` highest-scored gallery items (columns) is relevant:
    ``relevant[q, g]`` is True when item g is a right answer for query q.
    Returns a boolean array of shape (Q,); its mean is recall@k.
    """
    ### BEGIN SOLUTION: recall@k (test: tests/test_contrastive.py)
    top = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(relevant, top, axis=1).any(axis=1)
    ### END SOLUTION


def info_nce(image_emb: torch.Tensor, text_emb: torch.Tensor,
             logit_scale: torch.Tensor) -> torch.Tensor:
    """The symmetric InfoNCE loss of CLIP for a batch of N matching pairs:
    image i goes with text i. ``image_emb`` and ``text_emb`` are (N, d) unit
    vectors; ``logit_scale`` is a learnt scalar, the log of the inverse
    temperature.

    Every image must pick its own text among the N texts of the batch, and
    every text its own image among the N images: two N-way classifications
    whose logits are the cosine similarities times exp(logit_scale), that
    factor capped at ``MAX_SCALE`` (100, as in CLIP) so that it cannot grow without bound.
    The loss is the mean of the two cross-entropies, and the gradient must
    reach ``logit_scale`` (that is how the temperature is learnt).
    """
    ### BEGIN SOLUTION: symmetric InfoNCE, learnt temperature (test: tests/test_contrastive.py)
    scale = logit_scale.exp().clamp(max=MAX_SCALE)
    logits = scale * image_emb @ text_emb.T
    target = torch.arange(len(logits), device=logits.device)
    return (torch.nn.functional.cross_entropy(logits, target)
            + torch.nn.functional.cross_entropy(logits.T, target)) / 2
    ### END SOLUTION


# ------------------------------------------------------------ measuring


def same_caption(captions: np.ndarray) -> np.ndarray:
    """(G, G) True where two captions are identical."""
    _, ids = np.unique(captions, axis=0, return_inverse=True)
    ids = ids.reshape(-1)
    return ids[:, None] == ids[None, :]


@torch.no_grad()
def embed(model: DualEncoder, images: np.ndarray, captions: np.ndarray,
          device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    model.eval()
    device = next(model.parameters()).device  # where the model is (fit returns it on the CPU)
    img = torch.cat([model.embed_images(torch.as_tensor(images[i:i + 512], dtype=torch.float32,
                                                        device=device))
                     for i in range(0, len(images), 512)])
    txt = torch.cat([model.embed_texts(torch.as_tensor(captions[i:i + 512], device=device))
                     for i in range(0, len(captions), 512)])
    return img.cpu(), txt.cpu()


def retrieval_hits(model: DualEncoder, images: np.ndarray, captions: np.ndarray,
                   device: torch.device, ks=KS) -> dict[str, dict[int, np.ndarray]]:
    """Per-query hits at each k, image -> text and text -> image."""
    img, txt = embed(model, images, captions, device)
    similarity = (img @ txt.T).numpy()
    relevant = same_caption(captions)
    return {"image_to_text": {k: hits_at_k(similarity, relevant, k) for k in ks},
            "text_to_image": {k: hits_at_k(similarity.T, relevant, k) for k in ks}}


def recalls(hits: dict[str, dict[int, np.ndarray]], mask: np.ndarray | None = None) -> dict:
    return {direction: {f"recall_at_{k}": round(float(h[k][mask].mean() if mask is not None
                                                      else h[k].mean()), 4)
                        for k in h}
            for direction, h in hits.items()}


def single_objects(data: dict[str, np.ndarray]) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """The images of one object and its (shape, colour), read from the caption."""
    keep = np.flatnonzero(data["n_objects"] == 1)
    truth = []
    for i in keep:
        colour, shape, *_ = decode(data["captions"][i]).split()
        truth.append((shape, colour))
    return data["x"][keep], truth


def prompts() -> tuple[np.ndarray, list[tuple[str, str]]]:
    """The caption of every possible single object, and its (shape, colour)."""
    objects = [(s, c, cell) for s in SHAPES for c in COLOURS for cell in range(9)]
    tokens = np.stack([encode(Scene(((s, c, cell),)).caption(), CAPTION_LEN)
                       for s, c, cell in objects])
    return tokens, [(s, c) for s, c, _ in objects]


@torch.no_grad()
def zero_shot(model: DualEncoder, images: np.ndarray, truth: list[tuple[str, str]],
              device: torch.device) -> float:
    """Accuracy of classifying each image's object by its best-matching prompt."""
    if not truth:
        return float("nan")
    tokens, labels = prompts()
    img, txt = embed(model, images, tokens, device)
    best = (img @ txt.T).argmax(dim=1).numpy()
    return float(np.mean([labels[b] == t for b, t in zip(best, truth, strict=True)]))


# ------------------------------------------------------------- training


def batch_loss(model: DualEncoder, images: torch.Tensor, captions: torch.Tensor) -> torch.Tensor:
    return info_nce(model.embed_images(images), model.embed_texts(captions), model.logit_scale)


def fit(model: DualEncoder, train: dict, val: dict, cfg: dict, seed: int,
        device: torch.device) -> tuple[DualEncoder, dict]:
    """Adam on InfoNCE; after every epoch, recall@1 on the validation split
    (mean of both directions). Keeps the best epoch's weights and stops after
    ``patience`` epochs without a better one."""
    model.to(device)
    optimiser = adam(model.parameters(), cfg["lr"])
    images = torch.as_tensor(train["x"], dtype=torch.float32)
    captions = torch.as_tensor(train["captions"])
    generator = torch.Generator().manual_seed(seed)
    size = cfg["batch_size"]
    best = {"epoch": 0, "val_r1": -1.0}
    state = None
    with EpochLog("contrastive", epochs=cfg["epochs"], record=True,
                  show=("train_loss", "val_r1", "temperature")) as log:
        for epoch in range(1, cfg["epochs"] + 1):
            model.train()
            order = torch.randperm(len(images), generator=generator)
            total, batches = 0.0, 0
            for start in range(0, len(order) - size + 1, size):  # full batches only
                idx = order[start:start + size]
                loss = batch_loss(model, images[idx].to(device), captions[idx].to(device))
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                total, batches = total + float(loss.detach()), batches + 1
            hits = retrieval_hits(model, val["x"], val["captions"], device, ks=(1,))
            val_r1 = float(np.mean([h[1].mean() for h in hits.values()]))
            improved = val_r1 > best["val_r1"]
            if improved:
                best = {"epoch": epoch, "val_r1": val_r1}
                state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            log.epoch(epoch, note="  *" if improved else "", train_loss=total / max(batches, 1),
                      val_r1=val_r1, temperature=model.temperature)
            if epoch - best["epoch"] >= cfg["patience"]:
                print(f"contrastive: no better validation recall@1 for {cfg['patience']} "
                      f"epochs: stopping after epoch {epoch}")
                break
        log.close(mark=best["epoch"])
    model.load_state_dict(state)
    return model.cpu().eval(), best


def main() -> None:
    one_process("contrastive")
    params = load_params()
    cfg = params["contrastive"]
    set_threads(params)
    set_seed(params["seed"])
    device = pick_device()
    train, val, test, compositional = (load_split(f"data/generated/{split}.npz") for split in
                                       ("train", "val", "test", "compositional"))
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    MODEL.unlink(missing_ok=True)
    todo: list[str] = []
    scores: dict = {"gallery": len(test["x"]),
                    "chance": {f"recall_at_{k}": round(k / len(test["x"]), 4) for k in KS}}
    with learner_code(todo):
        model_cfg = {**model_config(params), "dim": cfg["dim"], "temperature": cfg["temperature"]}
        model = DualEncoder(model_cfg)
        # Your two functions on two examples first: a TODO stops the stage
        # here, before anything is trained or recorded.
        batch_loss(model, torch.as_tensor(train["x"][:2], dtype=torch.float32),
                   torch.as_tensor(train["captions"][:2]))
        hits_at_k(np.eye(2), np.eye(2, dtype=bool), 1)
        model, best = fit(model, train, val, cfg, params["seed"], device)
        # The test split, once, for the model chosen on validation.
        hits = retrieval_hits(model, test["x"], test["captions"], device)
        seen = {c.tobytes() for c in train["captions"]}
        in_train = np.asarray([c.tobytes() in seen for c in test["captions"]])
        scores.update({
            "best_epoch": best["epoch"],
            "temperature": round(model.temperature, 4),
            "val": {"recall_at_1": round(best["val_r1"], 4)},
            "test": recalls(hits),
            "test_by_objects": {str(n): {"examples": int((test["n_objects"] == n).sum()),
                                         **recalls(hits, test["n_objects"] == n)}
                                for n in np.unique(test["n_objects"])},
            "test_by_caption": {
                "seen_in_training": {"share": round(float(in_train.mean()), 4),
                                     **recalls(hits, in_train)},
                "unseen": {"share": round(float(1 - in_train.mean()), 4),
                           **recalls(hits, ~in_train)}},
        })
        seen_images, seen_truth = single_objects(test)
        novel_images, novel_truth = single_objects(compositional)
        scores["zero_shot"] = {
            "seen_pairs": round(zero_shot(model, seen_images, seen_truth, device), 4),
            "held_out_pairs": round(zero_shot(model, novel_images, novel_truth, device), 4),
            "images": len(seen_truth) + len(novel_truth),
            "chance": round(1 / (len(SHAPES) * len(COLOURS)), 4)}
        save_model(MODEL, model, model_cfg, seed=params["seed"],
                   trained_on=example_digests(train["x"], train["captions"]),
                   selected_on=example_digests(val["x"], val["captions"]))
    if todo:
        scores["not_implemented"] = todo
        placeholder_record("contrastive", todo)
    write_json("metrics/retrieval.json", scores)
    if "test" in scores:
        i2t, t2i = scores["test"]["image_to_text"], scores["test"]["text_to_image"]
        print(f"retrieval among {len(test['x'])} test pairs (epoch {scores['best_epoch']}, "
              f"temperature {scores['temperature']:.3f}): image->text R@1 "
              f"{i2t['recall_at_1']:.3f} R@5 {i2t['recall_at_5']:.3f}; text->image R@1 "
              f"{t2i['recall_at_1']:.3f} R@5 {t2i['recall_at_5']:.3f}; zero-shot "
              f"{scores['zero_shot']['seen_pairs']:.3f} (held-out pairs "
              f"{scores['zero_shot']['held_out_pairs']:.3f})")


if __name__ == "__main__":
    main()
