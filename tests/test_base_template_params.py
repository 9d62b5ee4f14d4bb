"""After `dvc exp run -S ...` the workspace holds the experiment: a metric
check that fails there says that params.yaml differs from the last commit, so
a learner does not chase a hint about the committed run (issue 13)."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from dlpath import checker

RUBRIC = """\
    format_version: 1
    milestones:
      - id: goals
        title: Goals
        step: edge-deployment
        checks:
          - {id: acc, kind: metric, file: metrics/m.json, key: acc, op: ">=", value: 0.9,
             hint: fuse the layers}
          - {id: ratio, kind: metric_ratio, file: metrics/m.json, numerator: fast,
             denominator: slow, op: "<=", value: 0.4, hint: go faster}
          - {id: secret, kind: metric, file: metrics/m.json, key: acc, op: ">=", value: 0.95,
             visible: false, hint: aim higher}
          - {id: commits, kind: git_commits, min: 5, hint: commit}
"""


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "p"
    (root / ".dlpath").mkdir(parents=True)
    (root / ".dlpath" / "rubric.yaml").write_text(textwrap.dedent(RUBRIC))
    (root / "params.yaml").write_text("seed: 0\ntrain:\n  hidden: 1024\n  lr: 0.001\n")
    (root / "metrics").mkdir()
    (root / "metrics" / "m.json").write_text(json.dumps({"acc": 0.8, "fast": 2, "slow": 4}))
    (root / ".gitignore").write_text("/.dlpath/state.json*\n")
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "first", cwd=root)
    return root


def messages(root: Path) -> dict[str, str]:
    report = checker.evaluate(root, record=False)
    return {c.id: c.message for c in report.all_checks}


def test_failing_metric_checks_say_params_differ_from_the_last_commit(project):
    (project / "params.yaml").write_text("seed: 0\ntrain:\n  hidden: 64\n  lr: 0.001\n")
    told = messages(project)
    for check in ("acc", "ratio"):
        assert "params.yaml differs from your last commit (train.hidden: 1024 -> 64)" \
            in told[check], told[check]
        assert "git restore params.yaml" in told[check]
    assert "params.yaml" not in told["commits"]  # does not depend on params
    report = checker.evaluate(project, record=False)
    secret = next(c for c in report.all_checks if c.id == "secret")
    assert secret.status == "fail"
    assert "0.95" not in secret.message  # a hidden check still reveals no value


def test_no_note_when_params_are_the_committed_ones(project):
    told = messages(project)
    assert "differs from your last commit" not in told["acc"]
    assert told["acc"].startswith("acc = 0.8")
