"""dlpath's own measurement of a multimodal project (the `probe` check kind).

``measure(root, seed)`` loads the project's trained models (``models/``) and
evaluates them on scenes it draws itself from ``seed``, with dlpath's copy of
the world (the template's ``world.py``, never the project's, never its
``data/``):

* ``fused.*``: the learner's fusion (every seed's model) on fresh scenes,
  overall and per kind of question, means over the seeds; ``decision_level.*``
  the project's two baselines combined; ``fused.margin_over_decision_level``;
* ``compositional.*``: colour and shape questions about held-out pairs;
* ``retrieval.*``: recall@1 and @5 of the dual encoder in a fresh gallery,
  both ways, ranked here (not by the learner's ``hits_at_k``);
* ``zero_shot.*``: classifying single objects by their best caption, for the
  pairs seen in training and the held-out ones;
* ``seeds.count``: how many seeds' models were measured (params.yaml's
  ``seeds``; the goals are means over at least 3);
* ``lineage.*`` and ``leak.*``: every model records the examples it was
  trained and chosen on (``models.save_model``); dlpath regenerates the
  project's splits and checks that the models learnt from the train split,
  were chosen on the validation split, and never saw a test or compositional
  example; ``lineage.held_out_kept`` is 1 while params.yaml keeps the
  template's held-out pairs out of training.

``challenge=True`` (``dlpath challenge``) draws the shifted world instead:
scenes in which every colour-shape pair can appear, held-out ones included,
as a deployed model would meet them; the gallery and the zero-shot images
likewise. The keys are the same.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORLD_FILE = (HERE.parent / "{{cookiecutter._project_name}}" / "{{cookiecutter._package_name}}"
              / "world.py")
FRESH = 2000  # fresh scenes for the question answerers
NOVEL = 1000  # fresh questions about held-out pairs
GALLERY = 1000  # fresh (image, caption) pairs for retrieval
PER_PAIR = 20  # zero-shot images per colour-shape pair


def _world():
    spec = importlib.util.spec_from_file_location("dlpath_multimodal_world", WORLD_FILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


W = _world()


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), 9000 + stream])


def fresh_scenes(seed: int, challenge: bool) -> dict[str, dict[str, np.ndarray]]:
    """The data dlpath measures on: scenes of the template's world."""
    world = dict(W.DEFAULT_WORLD)
    common = {"cell": world["cell"], "noise": world["noise"],
              "colour_jitter": world["colour_jitter"], "max_objects": world["max_objects"],
              "held_out": world["held_out"]}
    combos = "any" if challenge else "seen"
    iid = W.make_dataset(FRESH, _rng(seed, 0), mix=world["mix"], combos=combos, **common)
    novel = W.make_dataset(NOVEL, _rng(seed, 1), mix={"colour": 1.0, "shape": 1.0},
                           combos="novel", **common)
    gallery = W.make_dataset(GALLERY, _rng(seed, 2), mix=world["mix"], combos=combos, **common)
    return {"iid": iid, "novel": novel, "gallery": gallery,
            "zero_shot": zero_shot_images(seed, challenge)}


def zero_shot_images(seed: int, challenge: bool) -> dict[str, np.ndarray]:
    """Single objects: ``PER_PAIR`` images of every colour-shape pair, each in a random cell."""
    rng = _rng(seed, 3)
    held = W.parse_combos(W.HELD_OUT)
    scenes, pairs = [], []
    for shape in W.SHAPES:
        for colour in W.COLOURS:
            for _ in range(PER_PAIR):
                scenes.append(W.Scene(((shape, colour, int(rng.integers(9))),)))
                pairs.append((shape, colour))
    cfg = W.DEFAULT_WORLD
    images = W.draw(scenes, rng, cfg["cell"], cfg["noise"], cfg["colour_jitter"])
    novel = np.asarray([p in held for p in pairs])
    return {"x": images, "pairs": np.asarray([f"{c} {s}" for s, c in pairs]), "novel": novel}


# ------------------------------------------------------------ the project


def _params(root: Path) -> dict:
    import yaml

    return yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))


def _package(root: Path) -> str:
    meta = json.loads((root / ".dlpath" / "project.json").read_text(encoding="utf-8"))
    if meta.get("package"):
        return meta["package"]
    return root.name.replace("-", "_").lower()


def project_splits(params: dict) -> dict[str, dict[str, np.ndarray]]:
    """The project's own splits, regenerated from its params with dlpath's world."""
    cfg = {**W.DEFAULT_WORLD, **params["generate"]}
    # Without held-out pairs there is no compositional split (the project's
    # generate stage refuses to run; lineage.held_out_kept says why).
    return {split: W.make_split(split, int(params["seed"]), cfg) for split in W.SPLITS
            if split != "compositional" or W.parse_combos(cfg.get("held_out") or ())}


def _digests(data: dict[str, np.ndarray], model: str) -> set[int]:
    if model == "dual_encoder":
        found = W.example_digests(data["x"], data["captions"])
    else:
        found = W.example_digests(data["x"], data["questions"], data["y"])
    return set(found.tolist())


def _recorded(record: dict, key: str) -> set[int]:
    return set(record[key].numpy().view(np.uint64).tolist())


class Lineage:
    """What the models' records say about the data they learnt from."""

    def __init__(self, splits: dict[str, dict[str, np.ndarray]]):
        self.splits = splits
        self.memo: dict[tuple[str, str], set[int]] = {}
        self.trained_on_train: list[float] = []
        self.selected_on_val: list[float] = []
        self.seen = {"test": 0, "compositional": 0}

    def split(self, name: str, model: str) -> set[int]:
        if name not in self.splits:
            return set()
        if (name, model) not in self.memo:
            self.memo[name, model] = _digests(self.splits[name], model)
        return self.memo[name, model]

    def add(self, record: dict, model: str) -> None:
        trained, selected = _recorded(record, "trained_on"), _recorded(record, "selected_on")
        self.trained_on_train.append(len(trained & self.split("train", model))
                                     / max(len(trained), 1))
        self.selected_on_val.append(len(selected & self.split("val", model))
                                    / max(len(selected), 1))
        for name in self.seen:
            self.seen[name] = max(self.seen[name], len((trained | selected)
                                                       & self.split(name, model)))


def _stub_note(call) -> str | None:
    """The TODO message of a learner function that is still a stub, else None."""
    try:
        call()
    except NotImplementedError as exc:
        return str(exc) or "a function you write"
    except Exception:
        return None
    return None


# ------------------------------------------------------------- measuring


def per_kind(pred: np.ndarray, data: dict[str, np.ndarray]) -> dict[str, float]:
    correct = pred == data["y"]
    scores = {"accuracy": float(correct.mean())}
    for k, kind in enumerate(W.KINDS):
        if (data["kind"] == k).any():
            scores[kind] = float(correct[data["kind"] == k].mean())
    return scores


def _logits(model, data: dict[str, np.ndarray], inputs: tuple[str, ...]):
    import torch

    arrays = [torch.as_tensor(data[k], dtype=torch.float32) for k in inputs]
    with torch.no_grad():
        return torch.cat([model(*(a[i:i + 500] for a in arrays)).float()
                          for i in range(0, len(arrays[0]), 500)])


def _mean(rows: list[dict[str, float]], prefix: str) -> dict[str, float]:
    return {f"{prefix}.{key}": float(np.mean([r[key] for r in rows])) for key in rows[0]}


def first_hit_ranks(similarity: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """For each row, how many items score strictly higher than its best relevant item."""
    best = np.where(relevant, similarity, -np.inf).max(axis=1)
    return (similarity > best[:, None]).sum(axis=1)


def measure(root: Path, seed: int, challenge: bool = False) -> dict[str, float]:
    import torch

    torch.set_num_threads(1)
    root = Path(root)
    params = _params(root)
    package = _package(root)
    models = importlib.import_module(f"{package}.models")
    fusion = importlib.import_module(f"{package}.fusion")
    contrastive = importlib.import_module(f"{package}.contrastive")
    count = int(params.get("seeds", 3))
    data = fresh_scenes(seed, challenge)
    lineage = Lineage(project_splits(params))
    held = W.parse_combos(params["generate"].get("held_out", []))
    out: dict = {"lineage.held_out_kept": float(W.parse_combos(W.HELD_OUT) <= held),
                 "seeds.count": float(count)}
    notes: list[str] = []

    def load(folder: str, name: str, k: int, model_class):
        path = root / "models" / folder / f"{name}_seed{k}.pt"
        if not path.is_file():
            raise FileNotFoundError(f"models/{folder}/{path.name} is missing: run dvc repro")
        try:
            model, record = models.load_model(path, model_class)
        except NotImplementedError:
            raise
        except Exception as exc:
            raise RuntimeError(f"models/{folder}/{path.name} does not fit the code that loads "
                               f"it ({type(exc).__name__}); run dvc repro") from None
        lineage.add(record, "answerer")
        return model

    # The baselines and their decision-level combination.
    baselines, decision, decision_novel = [], [], []
    for k in range(count):
        image = load("baselines", "image_only", k, models.ImageOnly)
        text = load("baselines", "text_only", k, models.TextOnly)
        rows = {}
        for split in ("iid", "novel"):
            li, lt = _logits(image, data[split], ("x",)), _logits(text, data[split], ("questions",))
            rows[split] = (li, lt, models.decision_level(li, lt))
        baselines.append({"image_only": per_kind(rows["iid"][0].argmax(1).numpy(),
                                                 data["iid"])["accuracy"],
                          "text_only": per_kind(rows["iid"][1].argmax(1).numpy(),
                                                data["iid"])["accuracy"]})
        decision.append(per_kind(rows["iid"][2].argmax(1).numpy(), data["iid"]))
        decision_novel.append(per_kind(rows["novel"][2].argmax(1).numpy(), data["novel"]))
    out.update(_mean(baselines, "baseline"))
    out.update(_mean(decision, "decision_level"))
    out["decision_level.compositional"] = float(np.mean([r["accuracy"] for r in decision_novel]))
    ideal = W.ideal_answers(data["iid"]["x"], data["iid"]["questions"], W.DEFAULT_WORLD["cell"])
    out["ideal.accuracy"] = float((ideal == data["iid"]["y"]).mean())

    # The learner's fusion.
    cfg = models.model_config({**params, "generate": {**W.DEFAULT_WORLD, **params["generate"]}})
    stub = _stub_note(lambda: fusion.BindingFusion(cfg))
    if stub is not None and not (root / "models" / "fused" / "fused_seed0.pt").is_file():
        notes.append(stub)
    else:
        fused, novel = [], []
        for k in range(count):
            model = load("fused", "fused", k, fusion.BindingFusion)
            fused.append(per_kind(_logits(model, data["iid"], ("x", "questions")).argmax(1)
                                  .numpy(), data["iid"]))
            novel.append(per_kind(_logits(model, data["novel"], ("x", "questions")).argmax(1)
                                  .numpy(), data["novel"]))
        out.update(_mean(fused, "fused"))
        out["fused.worst_seed"] = float(min(r["accuracy"] for r in fused))
        out["fused.margin_over_decision_level"] = (out["fused.accuracy"]
                                                   - out["decision_level.accuracy"])
        out.update(_mean(novel, "compositional"))

    # The dual encoder.
    path = root / "models" / "dual_encoder" / "model.pt"
    if not path.is_file():
        unit = torch.nn.functional.normalize(torch.randn(4, 3), dim=1)
        stubs = [note for note in (
            _stub_note(lambda: contrastive.hits_at_k(np.eye(3), np.eye(3, dtype=bool), 1)),
            _stub_note(lambda: contrastive.info_nce(unit, unit, torch.tensor(1.0)))) if note]
        if not stubs:
            raise FileNotFoundError("models/dual_encoder/model.pt is missing: run dvc repro")
        notes.extend(stubs)
    else:
        try:
            dual, record = models.load_model(path, models.DualEncoder)
        except Exception as exc:
            raise RuntimeError("models/dual_encoder/model.pt does not fit models.DualEncoder "
                               f"({type(exc).__name__}); run dvc repro") from None
        lineage.add(record, "dual_encoder")
        out.update(retrieval(dual, data["gallery"]))
        out.update(zero_shot(dual, data["zero_shot"]))
        out["temperature"] = float(dual.temperature)

    out["lineage.trained_on_train_split"] = float(min(lineage.trained_on_train, default=1.0))
    out["lineage.selected_on_val_split"] = float(min(lineage.selected_on_val, default=1.0))
    out["leak.test_examples"] = float(lineage.seen["test"])
    out["leak.compositional_examples"] = float(lineage.seen["compositional"])
    if notes:
        out["not_implemented"] = notes
    return out


def _embed(dual, images: np.ndarray, captions: np.ndarray):
    import torch

    with torch.no_grad():
        img = dual.embed_images(torch.as_tensor(images, dtype=torch.float32))
        txt = dual.embed_texts(torch.as_tensor(captions))
    return img.numpy().astype(np.float64), txt.numpy().astype(np.float64)


def retrieval(dual, gallery: dict[str, np.ndarray]) -> dict[str, float]:
    img, txt = _embed(dual, gallery["x"], gallery["captions"])
    similarity = img @ txt.T
    _, caption = np.unique(gallery["captions"], axis=0, return_inverse=True)
    caption = caption.reshape(-1)
    relevant = caption[:, None] == caption[None, :]
    out = {}
    for direction, sim in (("image_to_text", similarity), ("text_to_image", similarity.T)):
        ranks = first_hit_ranks(sim, relevant)
        for k in (1, 5):
            out[f"retrieval.{direction}.recall_at_{k}"] = float((ranks < k).mean())
    return out


def zero_shot(dual, images: dict[str, np.ndarray]) -> dict[str, float]:
    prompts, labels = [], []
    for shape in W.SHAPES:
        for colour in W.COLOURS:
            for cell in range(9):
                prompts.append(W.encode(W.Scene(((shape, colour, cell),)).caption(),
                                        W.CAPTION_LEN))
                labels.append(f"{colour} {shape}")
    img, txt = _embed(dual, images["x"], np.stack(prompts))
    best = np.asarray(labels)[(img @ txt.T).argmax(axis=1)]
    right = best == images["pairs"]
    return {"zero_shot.seen_pairs": float(right[~images["novel"]].mean()),
            "zero_shot.held_out_pairs": float(right[images["novel"]].mean())}
