"""A tiny template for the grading tests: a real git + DVC project whose one
stage fits a threshold classifier in milliseconds, with a probe that measures
the model on data it draws itself, a visible pytest command, and dlpath's
common milestones. Rendered from a copy of the real ``_base``.

``install(where)`` lays out a templates folder holding ``_base`` and ``tiny``;
``patched(folder)`` points dlpath at it (in this process only).
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dlpath import resources, templates

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "{{cookiecutter._project_name}}"
PKG = "{{cookiecutter._package_name}}"

RUBRIC = """\
format_version: 1
milestones:
  - id: goal
    title: A good threshold
    step: edge-deployment
    checks:
      - id: train-stage
        kind: dvc_stage
        name: train
        hint: Keep the train stage.
      - id: acc
        kind: probe
        key: acc
        op: ">="
        value: 0.9
        reported: {file: metrics/m.json, key: acc, tolerance: 0.05}
        hint: Train a better threshold.
      - id: acc-floor
        kind: probe
        key: acc
        op: ">="
        value: 0.97
        visible: false
        reported: {file: metrics/m.json, key: acc, tolerance: 0.05}
        hint: Even better.
      - id: tests
        kind: command
        run: python -m pytest -q tests/test_tiny.py
        uses_tests: true
        timeout: 120
        hint: "Make the tests pass: python -m pytest -q tests/test_tiny.py"
      - id: hidden-tests
        kind: package_tests
        tests: hidden/test_hidden.py
        timeout: 120
        visible: false
        hint: Your fit breaks on other data.
"""

TRAIN = '''\
"""Fit the threshold of a one-feature classifier: label = x > 0.5."""

import json
import random
from pathlib import Path

import yaml


def draw(seed, n=2000):
    rng = random.Random(seed)
    xs = [rng.random() for _ in range(n)]
    return xs, [x > 0.5 for x in xs]


def fit(xs, labels, margin=0.0):
    """The midpoint between the largest negative and the smallest positive."""
    lo = max((x for x, y in zip(xs, labels) if not y), default=0.0)
    hi = min((x for x, y in zip(xs, labels) if y), default=1.0)
    return (lo + hi) / 2 + margin


def predict(model, x):
    return x > model["threshold"]


def accuracy(model, xs, labels):
    return sum(predict(model, x) == y for x, y in zip(xs, labels)) / len(xs)


def main():
    params = yaml.safe_load(open("params.yaml"))
    xs, labels = draw(params["seed"])
    model = {"threshold": fit(xs, labels, params["train"]["margin"])}
    Path("models").mkdir(exist_ok=True)
    Path("models/model.json").write_text(json.dumps(model))
    test_x, test_y = draw(params["seed"] + 1)
    Path("metrics").mkdir(exist_ok=True)
    Path("metrics/m.json").write_text(json.dumps({"acc": accuracy(model, test_x, test_y)}))


if __name__ == "__main__":
    main()
'''

DVC_YAML = """\
stages:
  train:
    cmd: python -m {{ cookiecutter._package_name }}.train
    deps:
      - {{ cookiecutter._package_name }}/train.py
    params:
      - seed
      - train
    outs:
      - models/model.json
    metrics:
      - metrics/m.json:
          cache: false
"""

TEST = """\
from {{ cookiecutter._package_name }}.train import draw, fit


def test_fit_finds_the_boundary():
    xs, labels = draw(1)
    assert abs(fit(xs, labels) - 0.5) < 0.01


def test_fit_honours_the_margin():
    xs, labels = draw(2)
    assert abs(fit(xs, labels, 0.1) - 0.6) < 0.01
"""

HIDDEN_TEST = """\
import importlib
import json
import os
from pathlib import Path


def test_fit_on_fresh_data(dlpath_seed):
    seen = os.environ.get("TINY_SEEDS")
    if seen:
        with open(seen, "a") as fh:
            fh.write(f"{dlpath_seed}\\n")
    package = json.loads(Path(".dlpath/project.json").read_text())["package"]
    train = importlib.import_module(f"{package}.train")
    xs, labels = train.draw(dlpath_seed)
    assert abs(train.fit(xs, labels) - 0.5) < 0.01
"""

PROBE = '''\
"""The tiny template's probe: the learner's threshold on fresh data."""

import importlib
import json
import random


def measure(root, seed, challenge=False):
    package = json.loads((root / ".dlpath" / "project.json").read_text())["package"]
    train = importlib.import_module(f"{package}.train")
    model = json.loads((root / "models" / "model.json").read_text())
    rng = random.Random(seed)
    xs = [rng.random() for _ in range(4000)]
    return {"acc": train.accuracy(model, xs, [x > 0.5 for x in xs])}
'''


def install(where: Path) -> Path:
    """A templates folder holding the real ``_base`` and the ``tiny`` template."""
    folder = where / "templates"
    shutil.copytree(ROOT / "templates" / "_base", folder / "_base",
                    ignore=shutil.ignore_patterns("__pycache__"))
    tiny = folder / "tiny"
    tree = tiny / PROJECT
    (tree / PKG).mkdir(parents=True)
    (tree / "tests").mkdir()
    (tiny / "hidden").mkdir()
    (tiny / "partials").mkdir()
    (tiny / "template.yaml").write_text(textwrap.dedent("""\
        format_version: 1
        version: 0.1.0
        description: A tiny threshold classifier.
        phase: hands-on
        step: edge-deployment
        """))
    (tiny / "cookiecutter.json").write_text('{"__extra_dependencies": []}\n')
    (tiny / "rubric.yaml").write_text(RUBRIC)
    (tiny / "partials" / "about.md").write_text("A tiny project.\n")
    (tiny / "partials" / "pipeline.md").write_text("One stage: train.\n")
    (tree / "dvc.yaml").write_text(DVC_YAML)
    (tree / "params.yaml").write_text("seed: {{ cookiecutter.seed }}\ntrain:\n  margin: 0.0\n")
    (tree / PKG / "train.py").write_text(TRAIN)
    (tree / "tests" / "test_tiny.py").write_text(TEST)
    (tiny / "hidden" / "test_hidden.py").write_text(HIDDEN_TEST)
    (tiny / "hidden" / "probe.py").write_text(PROBE)
    return folder


@contextmanager
def patched(folder: Path) -> Iterator[None]:
    import pytest

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(templates, "templates_dir", lambda: folder)
        mp.setattr(resources, "templates_dir", lambda: folder)
        yield
