"""A small fake template for the challenge, credential and leaderboard tests:
a threshold classifier on one number, whose probe draws its data from the
seed dlpath gives it. On the test split's look-alike the inputs lie on a grid
of 100 values; the challenge draws values off that grid. A model that learned
the rule (a threshold) passes both; a model that memorised the grid's labels
(a lookup table: the planted overfit) is perfect on its test split and fails
the challenge.

Projects are real git repositories (no DVC unless asked: the fake template's
pipeline is one python stage)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

PROBE = textwrap.dedent('''\
    """The fake template's probe."""
    import json
    import random


    def measure(root, seed, challenge=False):
        import learner  # the project's own code

        model = json.loads((root / "models" / "model.json").read_text())
        rng = random.Random(seed)
        if challenge:  # shifted: values off the test split's grid
            xs = [rng.randrange(100) / 100 + 0.0025 + rng.random() / 400 for _ in range(1000)]
        else:
            xs = [rng.randrange(100) / 100 for _ in range(1000)]
        right = sum(learner.predict(model, x) == (x > 0.5) for x in xs)
        todo = getattr(learner, "TODO", None)
        if todo:
            return {"not_implemented": [todo]}
        return {"acc": right / len(xs), "seed_seen": float(seed % 1000)}
''')

LEARNER = textwrap.dedent('''\
    def predict(model, x):
        if "table" in model:  # memorised answers
            return model["table"].get(f"{x:.4f}", False)
        return x > model["threshold"]
''')

TRAIN = textwrap.dedent('''\
    """The fake pipeline: 'trains' a model from params.yaml and reports its
    accuracy on the test split (the 100-value grid)."""
    import json
    import pathlib

    import yaml

    import learner

    params = yaml.safe_load(open("params.yaml"))
    if params.get("memorise"):
        model = {"table": {f"{k / 100:.4f}": k / 100 > 0.5 for k in range(100)}}
    else:
        model = {"threshold": params["threshold"]}
    pathlib.Path("models").mkdir(exist_ok=True)
    pathlib.Path("models/model.json").write_text(json.dumps(model))
    xs = [k / 100 for k in range(100)]
    acc = sum(learner.predict(model, x) == (x > 0.5) for x in xs) / len(xs)
    pathlib.Path("metrics").mkdir(exist_ok=True)
    size = len(json.dumps(model))
    pathlib.Path("metrics/m.json").write_text(json.dumps({"accuracy": acc, "size": size}))
''')

RUBRIC = textwrap.dedent('''\
    format_version: 1
    milestones:
      - id: goal
        title: A good model
        step: some-step
        checks:
          - id: acc
            kind: probe
            key: acc
            op: ">="
            value: 0.9
            reported: {file: metrics/m.json, key: accuracy, tolerance: 0.1}
            hint: Train the model better.
          - id: reported-acc
            kind: metric
            file: metrics/m.json
            key: accuracy
            op: ">="
            value: 0.9
            hint: Train the model better.
          - id: acc-hidden
            kind: metric
            file: metrics/m.json
            key: accuracy
            op: ">="
            value: 0.95
            visible: false
            hint: Train it even better.
      - id: second
        title: A file exists
        step: some-step
        checks:
          - id: notes
            kind: file_exists
            path: NOTES.md
            hint: Write NOTES.md.
''')

MANIFEST = textwrap.dedent('''\
    format_version: 1
    version: '1.2'
    description: d
    phase: hands-on
    step: some-step
    challenge:
      shift: values off the grid the test split was drawn from
      models: [models/model.json]
      due_months: 12
      timeout: 60
      scores:
        - key: acc
          label: accuracy
          op: ">="
          value: 0.9
          test: {file: metrics/m.json, key: accuracy}
    leaderboard:
      milestone: goal
      metric: {file: metrics/m.json, key: accuracy, direction: higher}
      tie_breakers:
        - {file: metrics/m.json, key: size, direction: lower}
''')


def install(tmp_path: Path, monkeypatch, name: str = "fake") -> Path:
    """A templates folder with the fake template (and a second one, ``other``,
    with the same files) that dlpath uses instead of its own."""
    from dlpath import resources, templates

    tdir = tmp_path / "templates"
    for tname in (name, "other"):
        folder = tdir / tname
        (folder / "hidden").mkdir(parents=True)
        (folder / "template.yaml").write_text(MANIFEST)
        (folder / "rubric.yaml").write_text(RUBRIC)
        (folder / "hidden" / "probe.py").write_text(PROBE)
    monkeypatch.setattr(templates, "templates_dir", lambda: tdir)
    monkeypatch.setattr(resources, "templates_dir", lambda: tdir)
    return tdir / name


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                          text=True).stdout


def project(where: Path, *, threshold: float = 0.5, memorise: bool = False,
            template: str = "fake", name: str = "proj", dvc: bool = False) -> Path:
    """A committed project of the fake template with a trained model."""
    root = where / name
    (root / ".dlpath").mkdir(parents=True)
    (root / ".dlpath" / "project.json").write_text(json.dumps({
        "format_version": 1, "template": template, "template_version": "1.2",
        "dlpath_version": "0.1.0", "created": "2026-01-01T00:00:00+00:00",
        "answers": {}, "checksums": {}}))
    (root / "learner.py").write_text(LEARNER)
    (root / "train.py").write_text(TRAIN)
    (root / "NOTES.md").write_text("# Notes\n")
    (root / "params.yaml").write_text(
        f"threshold: {threshold}\nmemorise: {str(memorise).lower()}\n")
    (root / ".gitignore").write_text("/.dlpath/state.json\n/.dlpath/state.json.lock\n"
                                     "__pycache__/\n" + ("/models/\n" if dvc else ""))
    git(where, "init", "-q", str(root))
    if dvc:
        (root / "dvc.yaml").write_text(textwrap.dedent("""\
            stages:
              train:
                cmd: python train.py
                deps: [train.py, learner.py]
                params: [threshold, memorise]
                outs: [models/model.json]
                metrics:
                  - metrics/m.json:
                      cache: false
        """))
        subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=root, check=True)
        subprocess.run([sys.executable, "-m", "dvc", "config", "core.analytics", "false"],
                       cwd=root, check=True)
        subprocess.run([sys.executable, "-m", "dvc", "repro", "-q"], cwd=root, check=True,
                       capture_output=True)
    else:
        subprocess.run([sys.executable, "train.py"], cwd=root, check=True)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "trained")
    return root
