"""bench/gpu_check.py's pure parts (the script itself is run on a GPU machine,
and end to end on the CPU by hand): the stage order it derives from dvc.yaml,
${...} interpolation, and which carried wheels suit an interpreter."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from dlpath import templates
from tests.conftest import make_project

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "bench" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("gpu_check", None)


@pytest.mark.parametrize("template", sorted(templates.available()))
def test_every_stage_runs_after_the_stages_it_reads(gpu_check, template, tmp_path):
    root = make_project(template, tmp_path, git=False, dvc=False)
    spec = yaml.safe_load((root / "dvc.yaml").read_text())
    order = gpu_check.stage_order(spec)
    assert sorted(order) == sorted(spec["stages"])
    for i, name in enumerate(order):
        for dep in spec["stages"][name].get("deps") or []:
            for earlier in order[i + 1:]:  # no later stage writes what this one reads
                outs = gpu_check._outs(spec["stages"][earlier])
                assert not any(gpu_check._covers(out, dep) for out in outs), (name, dep, earlier)


def test_stage_order_follows_outputs_not_file_order(gpu_check):
    spec = {"stages": {"b": {"cmd": "x", "deps": ["data/a"]},
                       "a": {"cmd": "y", "outs": ["data/a"]},
                       "c": {"cmd": "z"}}}
    assert gpu_check.stage_order(spec) == ["a", "b", "c"]
    spec["stages"]["a"]["deps"] = ["out/b"]
    spec["stages"]["b"]["outs"] = ["out/b"]
    with pytest.raises(SystemExit, match="cycle"):
        gpu_check.stage_order(spec)


def test_interpolation_from_params(gpu_check):
    params = {"train": {"epochs": 3}, "name": "m"}
    assert gpu_check.interpolate("python t.py ${train.epochs} ${name}", params) == \
        "python t.py 3 m"


def test_wheels_that_fit_this_interpreter(gpu_check, monkeypatch):
    import platform

    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    here = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert gpu_check._wheel_fits("rich-15.0.0-py3-none-any.whl")
    assert gpu_check._wheel_fits(f"pyyaml-6.0.4-{here}-{here}-manylinux2014_x86_64."
                                 "manylinux_2_17_x86_64.whl")
    assert not gpu_check._wheel_fits(f"pyyaml-6.0.4-{here}-{here}-manylinux2014_aarch64.whl")
    assert not gpu_check._wheel_fits("pyyaml-6.0.4-cp39-cp39-manylinux2014_x86_64.whl")
    assert gpu_check._wheel_fits("x-1.0-cp38-abi3-manylinux_2_17_x86_64.whl")
