"""The given models: encoders, baselines, decision-level fusion, saving."""

import numpy as np
import torch

from {{ cookiecutter._package_name }}.models import (
    BASELINES,
    DualEncoder,
    PatchEncoder,
    decision_level,
    load_model,
    save_model,
)
from {{ cookiecutter._package_name }}.world import ANSWERS, HELD_OUT, make_dataset

CFG = {"cell": 8, "colour_dim": 4, "shape_dim": 6, "hidden": 8, "embed": 4, "dim": 8,
       "temperature": 0.07}


def small(n=10):
    return make_dataset(n, np.random.default_rng(0), cell=8, noise=0.03, colour_jitter=25,
                        mix={"colour": 1, "shape": 1, "count": 1}, held_out=HELD_OUT)


def test_patches_describe_each_cell_by_colour_and_by_shape():
    data = small()
    regions = PatchEncoder(CFG)(torch.as_tensor(data["x"], dtype=torch.float32))
    assert regions.colour.shape == (10, 9, 4) and regions.shape.shape == (10, 9, 6)
    assert regions.joined().shape == (10, 9, 10)


def test_the_shape_features_are_blind_to_colour():
    encoder = PatchEncoder(CFG)
    image = torch.zeros(1, 3, 24, 24)
    image[0, 0, 2:7, 2:7] = 220  # a red block in the first cell
    blue = image[:, [2, 1, 0]]  # the same block, blue
    a, b = encoder(image), encoder(blue)
    torch.testing.assert_close(a.shape, b.shape)
    assert not torch.allclose(a.colour, b.colour)


def test_baselines_give_one_logit_per_answer():
    data = small()
    for model_class, inputs in BASELINES.values():
        batch = [torch.as_tensor(data[k], dtype=torch.float32) for k in inputs]
        assert model_class(CFG)(*batch).shape == (10, len(ANSWERS))


def test_decision_level_fusion_multiplies_the_two_answers():
    image = torch.log(torch.tensor([[0.5, 0.5, 0.0 + 1e-9]]))
    text = torch.log(torch.tensor([[0.1, 0.9, 1e-9]]))
    fused = decision_level(image, text).exp()
    torch.testing.assert_close(fused.sum(), torch.tensor(1.0))
    assert fused.argmax() == 1 and fused[0, 1] > 0.85


def test_dual_encoder_embeds_unit_vectors_with_a_learnable_temperature():
    data = small()
    model = DualEncoder(CFG)
    img = model.embed_images(torch.as_tensor(data["x"], dtype=torch.float32))
    txt = model.embed_texts(torch.as_tensor(data["captions"]))
    torch.testing.assert_close(img.norm(dim=1), torch.ones(10))
    torch.testing.assert_close(txt.norm(dim=1), torch.ones(10))
    assert model.logit_scale.requires_grad and abs(model.temperature - 0.07) < 1e-6


def test_a_saved_model_keeps_its_config_and_the_record_of_its_data(tmp_path):
    model_class, _ = BASELINES["text_only"]
    model = model_class(CFG)
    digests = np.array([1, 2**63 + 5], dtype=np.uint64)
    save_model(tmp_path / "m.pt", model, CFG, seed=3, trained_on=digests, selected_on=digests[:1])
    loaded, record = load_model(tmp_path / "m.pt", model_class)
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    assert record["seed"] == 3 and record["config"] == CFG
    assert record["trained_on"].numpy().view(np.uint64).tolist() == digests.tolist()
