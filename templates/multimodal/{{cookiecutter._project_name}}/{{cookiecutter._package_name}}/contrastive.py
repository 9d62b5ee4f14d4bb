"""Stage `contrastive`: a CLIP-style dual encoder trained with InfoNCE on
(image, caption) pairs, evaluated by retrieval on the test split.

Recall@k (image -> text): for each test image, rank every test caption by
cosine similarity; a hit is a correct caption among the top k. Two different
scenes can have the same caption; any caption identical to the image's own
counts as correct. Text -> image is the same the other way round.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from .common import (
    load_params,
    load_split,
    pick_device,
    save_torch,
    set_seed,
    set_threads,
    tensors,
    write_csv,
    write_json,
)
from .models import DualEncoder, info_nce

KS = (1, 5)


def train(model: DualEncoder, train_set, cfg: dict, seed: int, device: torch.device):
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(train_set, batch_size=cfg["batch_size"], shuffle=True,
                        generator=generator, drop_last=True)
    history = []
    for epoch in range(1, cfg["epochs"] + 1):
        model.train()
        total = 0.0
        for images, captions, _ in loader:
            images, captions = images.to(device), captions.to(device)
            optimiser.zero_grad()
            loss = info_nce(model.embed_images(images), model.embed_texts(captions),
                            cfg["temperature"])
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
        history.append({"epoch": epoch, "loss": round(total / len(loader), 6)})
    return model, history


def recall_at(similarity: np.ndarray, same: np.ndarray, ks=KS) -> dict[str, float]:
    """Recall@k of each row's best-ranked columns: a hit when one of the top k
    columns j has ``same[row, j]`` true."""
    order = np.argsort(-similarity, axis=1, kind="stable")
    hits = np.take_along_axis(same, order, axis=1)
    return {f"recall_at_{k}": round(float(hits[:, :k].any(axis=1).mean()), 4) for k in ks}


@torch.no_grad()
def retrieval(model: DualEncoder, images: np.ndarray, captions: np.ndarray,
              device: torch.device) -> dict[str, dict[str, float]]:
    model.eval().to(device)
    img = model.embed_images(torch.as_tensor(images, dtype=torch.float32, device=device))
    txt = model.embed_texts(torch.as_tensor(captions, device=device))
    similarity = (img @ txt.T).cpu().numpy()
    _, caption_id = np.unique(captions, axis=0, return_inverse=True)
    caption_id = caption_id.reshape(-1)
    same = caption_id[:, None] == caption_id[None, :]
    return {"image_to_text": recall_at(similarity, same),
            "text_to_image": recall_at(similarity.T, same)}


def main() -> None:
    params = load_params()
    cfg = params["contrastive"]
    set_threads(params)
    set_seed(params["seed"])
    device = pick_device()
    data = load_split("data/generated/train.npz")
    test = load_split("data/generated/test.npz")
    model, history = train(DualEncoder(cfg), tensors(data["x"], data["captions"], data["y"]),
                           cfg, params["seed"], device)
    scores = retrieval(model, test["x"], test["captions"], device)
    scores["gallery"] = len(test["x"])
    scores["chance_recall_at_5"] = round(5 / len(test["x"]), 4)
    save_torch(model.cpu().state_dict(), "models/dual_encoder.pt")
    write_csv("metrics/contrastive_log.csv", history)
    write_json("metrics/retrieval.json", scores)
    i2t, t2i = scores["image_to_text"], scores["text_to_image"]
    print(f"retrieval among {len(test['x'])}: image->text R@1 {i2t['recall_at_1']:.3f} "
          f"R@5 {i2t['recall_at_5']:.3f}; text->image R@1 {t2i['recall_at_1']:.3f} "
          f"R@5 {t2i['recall_at_5']:.3f}")


if __name__ == "__main__":
    main()
