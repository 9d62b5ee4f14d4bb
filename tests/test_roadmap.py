"""The roadmap data (dlpath/data/roadmap.yaml) and the exercise metadata
(dlpath/data/groundwork.yaml): coverage, references and validation."""

from __future__ import annotations

import pytest
import yaml

from dlpath import groundwork, roadmap, rubric, templates
from dlpath.errors import DlpathError
from dlpath.resources import data_dir

TOPICS = {  # every topic the product promises, phase by phase, as step ids
    "groundwork": ["vectors-and-matrices", "chain-rule", "gaussian-and-batchnorm",
                   "numpy-vectorisation", "cross-entropy", "loss-landscape",
                   "computational-graphs", "weight-initialisation", "momentum-and-adam",
                   "convolution", "first-network"],
    "structured-learning": ["choose-a-path", "micro-credentials", "adaptive-pacing",
                            "qa-community", "curriculum-decay", "dev-environment",
                            "beyond-recipes"],
    "hands-on": ["open-ended-problem", "mlops-from-day-one", "multimodal", "explainable-ai",
                 "synthetic-data", "edge-deployment", "leaderboards"],
    "sustaining-momentum": ["open-source-contribution", "niche-communities",
                            "fresh-data-retests", "implement-papers", "deliberate-practice"],
}


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPATH_HOME", str(tmp_path / "home"))
    roadmap._load.cache_clear()


def test_roadmap_covers_every_topic_in_four_phases():
    rm = roadmap.load()
    assert [p.title for p in rm.phases] == [
        "Groundwork", "Structured learning", "Hands-on projects", "Sustaining momentum"]
    for phase in rm.phases:
        assert sorted(s.id for s in phase.steps) == sorted(TOPICS[phase.id]), phase.id
    for step in rm.steps:
        assert len(step.why) > 40 and step.do and step.effort


def test_every_template_and_rubric_milestone_names_a_roadmap_step():
    ids = {s.id for s in roadmap.load().steps}
    assert "_base" not in templates.available()
    base = rubric.load_file(templates.templates_dir() / templates.BASE / "rubric.yaml")
    assert all(m.step in ids for m in base)
    for template in templates.available().values():
        assert template.step in ids, template.name
        for m in rubric.for_template(template).milestones:
            assert m.step in ids, (template.name, m.id)


def test_every_checked_step_names_an_existing_milestone():
    available = templates.available()
    base_ids = {m.id for m in rubric.load_file(
        templates.templates_dir() / templates.BASE / "rubric.yaml")}
    for step in roadmap.load().steps:
        if step.milestone is None:  # self-reported, or completed by a command
            continue
        template, milestone = step.milestone.split("/")
        if template == "*":
            assert milestone in base_ids, step.id
        else:
            ids = {m.id for m in rubric.for_template(available[template]).milestones}
            assert milestone in ids, step.id


def test_prerequisites_form_a_dag_of_known_ids():
    rm = roadmap.load()
    by_id = {s.id: s for s in rm.steps}
    order: list[str] = []

    def visit(sid: str, path: tuple[str, ...]) -> None:
        assert sid not in path, f"cycle through {path + (sid,)}"
        for pre in by_id[sid].prerequisites:
            assert pre in by_id, f"{sid} needs unknown {pre}"
            visit(pre, path + (sid,))
        if sid not in order:
            order.append(sid)

    for sid in by_id:
        visit(sid, ())
    assert sorted(order) == sorted(by_id)


def _data():
    return yaml.safe_load((data_dir() / "roadmap.yaml").read_text())


@pytest.mark.parametrize("change,message", [
    (lambda d: d["phases"][0]["steps"][1].update(prerequisites=["nope"]),
     "steps[numpy-vectorisation].prerequisites: unknown step 'nope'"),
    (lambda d: d["phases"][0]["steps"][0].update(prerequisites=["numpy-vectorisation"]),
     "form a cycle"),
    (lambda d: d["phases"][0]["steps"][0].pop("why"),
     "phases[groundwork].steps[0].why: is required"),
    (lambda d: d["phases"][1]["steps"][0].update(completion={"milestone": "xai"}),
     "steps[choose-a-path].completion.milestone: must be TEMPLATE/MILESTONE"),
    (lambda d: d["phases"][1]["steps"][0].pop("completion"), "steps[choose-a-path].completion"),
    (lambda d: d["phases"][1]["steps"][0].update(colour="red"), "unknown field(s) colour"),
    (lambda d: d["phases"][2]["steps"].append(dict(d["phases"][2]["steps"][0])), "used twice"),
    (lambda d: d.update(format_version=9), "format_version: must be 1"),
])
def test_roadmap_validation_names_file_and_field(change, message, tmp_path):
    data = _data()
    change(data)
    with pytest.raises(DlpathError) as info:
        roadmap.parse(data, tmp_path / "roadmap.yaml")
    assert str(tmp_path / "roadmap.yaml") in info.value.message
    assert message in info.value.message


def test_a_local_roadmap_overrides_the_packaged_one_and_is_validated(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    data = _data()
    data["phases"][0]["title"] = "My groundwork"
    (home / "roadmap.yaml").write_text(yaml.safe_dump(data))
    assert roadmap.load().phases[0].title == "My groundwork"
    (home / "roadmap.yaml").write_text("format_version: 1\nphases: [\n")
    roadmap._load.cache_clear()
    with pytest.raises(DlpathError, match="roadmap.yaml: file: cannot read"):
        roadmap.load()


def test_unknown_step_suggests_the_closest_id():
    with pytest.raises(DlpathError, match="Unknown step 'chain-rul'") as info:
        roadmap.load().step("chain-rul")
    assert info.value.hint == "Did you mean 'chain-rule'?"


# ------------------------------------------------------------ groundwork.yaml


def test_groundwork_exercises_match_files_rubric_and_roadmap():
    exercises = groundwork.load()
    steps = {s.id: s for s in roadmap.load().steps}
    tree = templates.get("groundwork").path / templates.PROJECT_DIR
    milestones = {m.id: m for m in rubric.for_template(templates.get("groundwork")).milestones}
    assert [e.id for e in exercises] == [
        "vectors", "vectorise", "softmax", "backprop", "autograd", "batchnorm", "init",
        "descent", "optimisers", "conv", "network"]
    for e in exercises:
        assert (tree / e.file).is_file()
        assert (tree / "tests" / f"test_{e.id}.py").is_file()
        assert (templates.get("groundwork").path / "hidden" / f"test_{e.id}.py").is_file()
        assert e.concept in steps
        assert steps[e.concept].milestone == f"groundwork/{e.id}"
        assert milestones[e.id].step == e.concept
        kinds = {c.kind: c for c in milestones[e.id].checks}
        assert kinds["command"].args["uses_tests"] is True
        assert kinds["package_tests"].visible is False


@pytest.mark.parametrize("change,message", [
    (lambda d: d["exercises"][1].update(prerequisites=["descent"]),
     "exercises[vectorise].prerequisites: 'descent' is not an exercise listed before"),
    (lambda d: d["exercises"][0].update(difficulty=7), "exercises[vectors].difficulty"),
    (lambda d: d["exercises"][0].update(file="../evil.py"), "exercises[vectors].file"),
    (lambda d: d["exercises"][2].pop("hints"), "exercises[softmax].hints: must map"),
    (lambda d: d["exercises"][2]["hints"].pop("approach"),
     "exercises[softmax].hints.approach: is required"),
    (lambda d: d["exercises"][2]["hints"].update(code="x = 1"),
     "exercises[softmax].hints.code: is not a level"),
    (lambda d: d.update(format_version=1), "format_version: must be 2"),
])
def test_groundwork_metadata_validation_names_file_and_field(change, message, tmp_path):
    data = yaml.safe_load((data_dir() / "groundwork.yaml").read_text())
    change(data)
    with pytest.raises(DlpathError) as info:
        groundwork.parse(data, tmp_path / "groundwork.yaml")
    assert str(tmp_path / "groundwork.yaml") in info.value.message
    assert message in info.value.message
