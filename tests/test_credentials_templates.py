"""A credential on a real dlpath project (the groundwork template): issued for
an exercise solved with the reference solution, verified against the
project (the milestone's visible and hidden tests re-run on a clean checkout
of the commit), and refused for an exercise still unsolved."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dlpath import credentials, solutions
from dlpath.cli import app
from tests.conftest import make_project, run


@pytest.mark.slow
def test_a_groundwork_exercise_credential_verifies_against_the_project(tmp_path, runner,
                                                                      monkeypatch):
    monkeypatch.setenv("DLPATH_HOME", str(tmp_path / "home"))
    root = make_project("groundwork", tmp_path)
    if not solutions.apply_reference(root, ["exercises/vectors.py"]):
        # groundwork exercises without solution regions keep theirs in the tests
        shutil.copy(Path(__file__).parent / "groundwork_solutions" / "vectors.py",
                    root / "exercises" / "vectors.py")
    run(["git", "add", "-A"], cwd=root)
    run(["git", "commit", "-q", "-m", "vectors solved"], cwd=root)
    out = tmp_path / "vectors.json"
    issued = runner.invoke(app, ["credential", "vectors", str(root), "-o", str(out)])
    assert issued.exit_code == 0, issued.output
    ev = credentials.evidence_of(json.loads(out.read_text()))
    assert ev["template"] == "groundwork" and ev["report"]["status"] == "pass"
    assert {c["visibility"] for c in ev["report"]["checks"]} == {"visible", "hidden"}
    verified = runner.invoke(app, ["verify", str(out), "--project", str(root)])
    assert verified.exit_code == 0, verified.output
    assert "milestone 'vectors' passes again on a clean checkout" in verified.stdout
    refused = runner.invoke(app, ["credential", "softmax", str(root), "-o",
                                  str(tmp_path / "softmax.json")])
    assert refused.exit_code == 1 and "Milestone 'softmax' does not pass" in refused.stderr
    assert not (tmp_path / "softmax.json").exists()
