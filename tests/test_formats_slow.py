"""Every format on a quantization project after `dvc repro` (mixed results: some
checks pass, some fail). One `dvc repro` for the module; every test shares it.

The templates change: what passes is not asserted, only that every document
validates, that the mix is there, and the mapping rules (points, hidden checks)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from dlpath import checker
from dlpath.cli import app
from tests.conftest import dvc, make_project
from tests.platform_specs import classroom, gradescope
from tests.test_formats import FORMATS, check

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory) -> Path:
    root = make_project("quantization", tmp_path_factory.mktemp("quant-formats"))
    dvc("repro", cwd=root)
    from typer.testing import CliRunner

    CliRunner().invoke(app, ["check", str(root), "--json"])  # caches the command checks
    return root


@pytest.fixture(scope="module")
def report(reproduced):
    return checker.evaluate(reproduced, record=False)


def test_the_results_are_mixed(report):
    statuses = {c.status for c in report.all_checks}
    assert "pass" in statuses and statuses & {"fail", "error"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_validates_on_a_reproduced_project(reproduced, report, fmt, runner,
                                                        tmp_path):
    code, doc = check(runner, reproduced, fmt, tmp_path / "r.json")
    assert code == report.exit_code
    passed = [c for c in report.all_checks if c.status == "pass"]
    if fmt == "gradescope":
        assert doc["score"] == report.score
        assert sum(t["status"] == "passed" for t in doc["tests"]) == len(passed)
        assert gradescope.student_view(doc, "submitted")["total_score"] is \
            (report.tally(False)[1] == 0)
    elif fmt == "exercism":
        assert doc["status"] in ("fail", "pass")
        assert sum(t["status"] == "pass" for t in doc["tests"]) == len(passed)
        assert all(t["message"] is None for t in doc["tests"] if t["status"] == "pass")
    elif fmt == "classroom":
        seen = classroom.reporter(
            {"DLPATH_RESULTS": base64.b64encode((tmp_path / "r.json").read_bytes()).decode()},
            "dlpath")
        assert (seen.total_points, seen.max_points) == (report.score, report.max_score)
        for c in report.all_checks:
            if not c.visible:
                assert f": {c.id}" not in seen.text
    elif fmt == "prairielearn":
        assert doc["score"] == pytest.approx(report.score / report.max_score)
        assert 0 < doc["score"] < 1
    else:
        assert json.dumps(doc["tests"]) and doc["score"] == report.score
