"""The challenge and leaderboard sections of dlpath's own templates agree with
the rest of each template: a challenge needs a probe that returns the keys it
judges, names model files the pipeline produces and test figures its
metrics files hold; a leaderboard names a milestone of the rubric and
metrics files of the pipeline. Static (no pipeline runs): slow end-to-end
runs live in the templates' own test modules and bench/bench_challenge.py."""

from __future__ import annotations

import re

import pytest

from dlpath import rubric, templates
from dlpath.checks.probe import probe_path

ALL = templates.available()
WITH_CHALLENGE = sorted(n for n, t in ALL.items() if t.challenge is not None)
WITH_BOARD = sorted(n for n, t in ALL.items() if t.leaderboard is not None)


def _pipeline(template: templates.Template) -> str:
    return (template.path / templates.PROJECT_DIR / "dvc.yaml").read_text(encoding="utf-8")


def _mentions(text: str, path: str) -> bool:
    return re.search(rf"(^|[\s\-\[:]){re.escape(path)}($|[\s:\],])", text, re.M) is not None


@pytest.mark.parametrize("name", WITH_CHALLENGE)
def test_a_declared_challenge_has_a_probe_that_measures_its_scores(name):
    template = ALL[name]
    probe = probe_path(template.path)
    assert probe is not None, f"{name} declares a challenge but ships no hidden/probe.py"
    source = probe.read_text(encoding="utf-8")
    assert "challenge" in source
    pipeline = _pipeline(template)
    for score in template.challenge.scores:
        # named whole, or built part by part (f"retrieval.{direction}.recall_at_{k}")
        parts = [part.rstrip("0123456789") for part in score.key.split(".")]
        assert f'"{score.key}"' in source or f"'{score.key}'" in source or \
            score.key.split(".")[-1] in source or all(p in source for p in parts), \
            (name, score.key)
        if score.test_file:
            assert _mentions(pipeline, score.test_file), (name, score.test_file)
    for model in template.challenge.models:
        # the file, or the folder a stage outputs it in (models/fused/fused_seed0.pt)
        assert _mentions(pipeline, model) or "*" in model or \
            _mentions(pipeline, model.rsplit("/", 1)[0]), (name, model)


@pytest.mark.parametrize("name", WITH_BOARD)
def test_a_declared_leaderboard_names_a_milestone_and_pipeline_metrics(name):
    template = ALL[name]
    ids = {m.id for m in rubric.for_template(template).milestones}
    assert template.leaderboard.milestone in ids
    pipeline = _pipeline(template)
    rubric_text = template.rubric_path.read_text(encoding="utf-8")
    for metric in template.leaderboard.metrics:
        assert _mentions(pipeline, metric.file), (name, metric.file)
        assert metric.key in rubric_text, (name, metric.key)  # a key the milestones judge


def test_the_declarations_are_loaded_from_the_manifests():
    # every template loads (a malformed section would raise); report which declare what
    assert set(WITH_CHALLENGE) <= set(ALL) and set(WITH_BOARD) <= set(ALL)
