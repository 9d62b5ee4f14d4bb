"""Rubric loading (dlpath.rubric): validation with file:line:field errors, paths
confined to the project, the packaged rubrics merged with the common
milestones, the JSON Schema, and the visible copy written into projects."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from dlpath import rubric, templates
from dlpath.errors import ExitCode
from tests.conftest import make_project

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "docs" / "rubric.schema.json"


def one_check(check: str) -> str:
    return textwrap.dedent(f"""\
        format_version: 1
        milestones:
          - id: m
            title: M
            step: s
            checks:
              - {check}
        """)


@pytest.mark.parametrize("bad,field,problem", [
    ("{id: x, kind: file_exists, path: ../outside, hint: h}", "path",
     "path '../outside' leaves the project (absolute or '..')"),
    ("{id: x, kind: file_exists, path: /etc/passwd, hint: h}", "path",
     "path '/etc/passwd' leaves the project (absolute or '..')"),
    ("{id: x, kind: metric, file: a/../../m.json, key: a, op: '>=', value: 1, hint: h}", "file",
     "path 'a/../../m.json' leaves the project (absolute or '..')"),
    ("{id: x, kind: command, run: pytest, inputs: [src/*.py, ../*], hint: h}", "inputs",
     "path '../*' leaves the project (absolute or '..')"),
    ("{id: x, kind: nope, hint: h}", "kind", "unknown kind 'nope'"),
    ("{id: x, kind: file_exists, path: a}", "hint", "every check needs a hint"),
    ("{id: x, kind: metric, file: m.json, key: a, op: '~', value: 1, hint: h}", "op",
     "must be one of"),
    ("{id: x, kind: metric, file: m.json, key: a, op: '>=', value: high, hint: h}", "value",
     "must be a number, got 'high'"),
    ("{id: x, kind: git_commits, min: two, hint: h}", "min",
     "must be a non-negative integer, got 'two'"),
    ("{id: x, kind: params_changed, keys: lr, hint: h}", "keys",
     "must be a list of strings, got 'lr'"),
    ("{id: x, kind: params_changed, experiment: 'yes', hint: h}", "experiment",
     "must be true or false"),
    ("{id: x, kind: file_exists, path: a, points: -1, hint: h}", "points",
     "must be a non-negative integer"),
    ("{id: x, kind: file_exists, path: a, visible: no-way, hint: h}", "visible",
     "must be true or false"),
    ("{id: x, kind: file_matches, path: a, pattern: '(', hint: h}", "pattern",
     "not a valid regex"),
    ("{id: X!, kind: file_exists, path: a, hint: h}", "id", "must match [a-z0-9-]+"),
])
def test_check_errors_name_file_line_and_field(bad, field, problem, tmp_path):
    path = tmp_path / "rubric.yaml"
    path.write_text(one_check(bad))
    with pytest.raises(rubric.RubricError) as caught:
        rubric.load_file(path)
    message = caught.value.message
    check_id = "X!" if field == "id" else "x"
    assert message.startswith(f"{path}:7: milestones[m].checks[{check_id}]"), message
    if field not in ("kind", "hint"):
        assert f"].{field}: " in message, message
    assert problem in message
    assert caught.value.exit_code == ExitCode.USAGE


def test_unknown_and_missing_arguments(tmp_path):
    path = tmp_path / "rubric.yaml"
    path.write_text(one_check("{id: x, kind: metric, file: m.json, key: a, hint: h, colour: red}"))
    with pytest.raises(rubric.RubricError, match=r"rubric.yaml:7: .*missing argument\(s\) op, "
                                                 r"value"):
        rubric.load_file(path)
    path.write_text(one_check("{id: x, kind: git_clean, hint: h, colour: red}"))
    with pytest.raises(rubric.RubricError, match=r"unknown field\(s\) colour"):
        rubric.load_file(path)


@pytest.mark.parametrize("text,where", [
    ("format_version: 2\nmilestones: []\n", ":1: format_version: must be 1, got 2"),
    ("format_version: 1\nmilestones: {}\n", ":1: milestones: must be a list"),
    ("- just\n- a list\n", ":1: rubric: must be a mapping"),
    ("format_version: 1\nmilestones:\n  - id: a\n    title: A\n    step: s\n    checks: []\n",
     ":3: milestones[a].checks: must be a non-empty list"),
    ("format_version: 1\nmilestones:\n  - id: a\n    step: s\n    checks: []\n",
     ":3: milestones[a].title: is required"),
    ("format_version: 1\nmilestones:\n  - {id: a, title: A, step: s, checks: "
     "[{kind: git_clean, hint: h}]}\n  - {id: a, title: B, step: s, checks: "
     "[{kind: git_clean, hint: h}]}\n", ":4: milestones[a].id: is used twice"),
    ("format_version: 1\nmilestones:\n  - id: a\n   title: [unclosed\n", ":4: yaml:"),
])
def test_rubric_structure_errors(text, where, tmp_path):
    path = tmp_path / "rubric.yaml"
    path.write_text(text)
    with pytest.raises(rubric.RubricError) as caught:
        rubric.load_file(path)
    assert f"{path}{where}" in caught.value.message


def test_a_check_without_an_id_gets_one_from_its_kind(tmp_path):
    path = tmp_path / "rubric.yaml"
    path.write_text(one_check("{kind: git_clean, hint: commit}"))
    (milestone,) = rubric.load_file(path)
    assert [c.id for c in milestone.checks] == ["git-clean-1"]
    assert milestone.checks[0].points == 1 and milestone.checks[0].visible


def test_a_symlink_leading_out_is_a_failed_check_and_one_inside_is_followed(tmp_path):
    from dlpath import checker

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "m.json").write_text('{"a": 5}')
    root = tmp_path / "proj"
    root.mkdir()
    (root / "metrics").symlink_to(outside)
    (root / ".dlpath").mkdir()
    (root / ".dlpath" / "rubric.yaml").write_text(one_check(
        "{id: x, kind: metric, file: metrics/m.json, key: a, op: '>=', value: 1, hint: h}"))
    # the rubric loads (it is dlpath's, not wrong); the check that meets the
    # symlink fails and says why
    assert rubric.load_for_project(root).milestones[0].checks[0].id == "x"
    (check,) = checker.evaluate(root, record=False).all_checks
    assert (check.status, check.message) == (
        "fail", "metrics/m.json leads out of the project (a symlink)")
    # a symlinked folder that stays inside the project is followed
    (root / "metrics").unlink()
    (root / "storage").mkdir()
    (root / "storage" / "m.json").write_text('{"a": 5}')
    (root / "metrics").symlink_to(root / "storage")
    (check,) = checker.evaluate(root, record=False).all_checks
    assert (check.status, check.message) == ("pass", "a = 5 (needs >= 1)")


def test_a_directory_dlpath_did_not_create_says_how_to_add_a_rubric(tmp_path):
    with pytest.raises(rubric.RubricError) as caught:
        rubric.load_for_project(tmp_path)
    assert caught.value.message == f"'{tmp_path}' was not created by dlpath and has no rubric."
    assert ".dlpath/rubric.yaml" in caught.value.hint
    assert "dlpath new" in caught.value.hint


@pytest.mark.parametrize("name", sorted(templates.available()))
def test_every_packaged_rubric_loads_in_order(name):
    template = templates.get(name)
    merged = rubric.for_template(template)
    ids = [m.id for m in merged.milestones]
    own = [m.id for m in rubric.load_file(template.rubric_path)] if (
        template.rubric_path.is_file()) else []
    # versioned first, the template's own goals, then reproducible and the open problem
    assert ids == ["versioned", *own, "reproducible", "own-problem"]
    for m in merged.milestones:
        assert m.title and m.step and m.checks
        assert m.max_score == sum(c.points for c in m.checks)


def test_common_milestones_name_no_template_path():
    base = rubric.load_file(ROOT / "templates" / "_base" / "rubric.yaml")
    assert [(m.id, m.step) for m in base] == [
        ("versioned", "mlops-from-day-one"), ("reproducible", "mlops-from-day-one"),
        ("own-problem", "open-ended-problem")]
    paths = [v for m in base for c in m.checks for k, v in c.args.items()
             if k in rubric.KINDS[c.kind][2]]
    assert paths == ["PROBLEM.md"]  # shipped by the base template itself


def test_template_milestones_may_not_reuse_common_ids(tmp_path, monkeypatch):
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "rubric.yaml").write_text(
        "format_version: 1\nmilestones:\n  - {id: versioned, title: V, step: s, checks: "
        "[{kind: git_clean, hint: h}]}\n")
    (tmp_path / "_base").mkdir()
    (tmp_path / "_base" / "rubric.yaml").write_text(
        (ROOT / "templates" / "_base" / "rubric.yaml").read_text())
    template = templates.Template(name="fake", version="1", description="", phase="",
                                  step="", path=fake)
    with pytest.raises(rubric.RubricError, match=r"reuse common milestone id\(s\): "
                                                 r"\['versioned'\]"):
        rubric.for_template(template)


def test_the_json_schema_accepts_every_packaged_rubric_and_knows_every_kind():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted((ROOT / "templates").glob("*/rubric.yaml"))
    assert len(files) >= 3
    for path in files:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert errors == [], path
    assert set(schema["$defs"]["check"]["properties"]["kind"]["enum"]) == set(rubric.KINDS)
    variants = {v["title"]: v for v in schema["$defs"]["check"]["oneOf"]}
    for kind, (required, optional, _) in rubric.KINDS.items():
        assert set(variants[kind]["required"]) == required | {"kind", "hint"}, kind
        assert set(variants[kind]["properties"]) == (
            required | optional | {"id", "kind", "hint", "points", "visible"}), kind
    bad = {"format_version": 1, "milestones": [{"id": "m", "title": "M", "step": "s", "checks": [
        {"kind": "metric", "file": "m.json", "key": "a", "op": "~", "value": 1, "hint": "h"}]}]}
    assert list(validator.iter_errors(bad))


def test_the_visible_copy_holds_common_milestones_and_no_hidden_check(tmp_path):
    root = make_project("quantization", tmp_path, git=False, dvc=False)
    copy_path = root / ".dlpath" / "rubric.yaml"
    text = copy_path.read_text()
    packaged = rubric.for_template(templates.get("quantization"))
    hidden = [c.id for m in packaged.milestones for c in m.checks if not c.visible]
    assert hidden  # the quantization rubric hides some checks
    assert f"also holds {len(hidden)}\n# hidden check(s)" in text
    copy = rubric.load_file(copy_path)
    assert [m.id for m in copy] == [m.id for m in packaged.milestones]
    assert all(c.visible for m in copy for c in m.checks)
    for check_id in hidden:
        assert f"id: {check_id}\n" not in text
    visible = [(m.id, c.id) for m in packaged.milestones for c in m.checks if c.visible]
    assert [(m.id, c.id) for m in copy for c in m.checks] == visible
