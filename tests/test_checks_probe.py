"""The ``probe`` check kind (dlpath.checks.probe) on a fake template whose
probe measures a tiny learner model on data it draws from the seed it is
given: passes for a good model, fails for a weak one without revealing a
hidden threshold, catches a metrics file that disagrees with the model, reports
unfinished work, and cannot be fooled by the project's code ending the
process, writing a result of its own, or an interpreter start-up hook."""

from __future__ import annotations

import json
import os
import re
import textwrap
import time
from pathlib import Path

import pytest

from dlpath import checker, resources, rubric, templates
from dlpath.checks import probe as probe_mod

PROBE = textwrap.dedent('''\
    """A fake template's probe: a threshold classifier on fresh data."""
    import json
    import random


    def measure(root, seed, challenge=False):
        import learner  # the project's own code, from the project root

        model = json.loads((root / "models" / "model.json").read_text())
        rng = random.Random(seed)
        xs = [rng.random() for _ in range(2000)]
        if challenge:
            xs = [x * 0.5 + 0.25 for x in xs]
        right = sum((learner.predict(model, x)) == (x > 0.5) for x in xs)
        out = {"acc": right / len(xs), "seed_seen": float(seed % 1000)}
        todo = getattr(learner, "TODO", None)
        if todo:
            out = {"not_implemented": todo if isinstance(todo, dict) else [todo]}
        return out
''')

LEARNER = textwrap.dedent('''\
    def predict(model, x):
        return x > model["threshold"]
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
            reported: {file: metrics/m.json, key: accuracy, tolerance: 0.05}
            hint: Train the model better.
          - id: acc-hidden
            kind: probe
            key: acc
            op: ">="
            value: 0.95
            visible: false
            hint: Train it even better.
          - id: seed
            kind: probe
            key: seed_seen
            op: ">="
            value: 0
            hint: The probe saw a seed.
''')


@pytest.fixture
def fake_templates(tmp_path, monkeypatch) -> Path:
    """A templates folder holding one template, ``fake``, with a probe."""
    tdir = tmp_path / "templates"
    fake = tdir / "fake"
    (fake / "hidden").mkdir(parents=True)
    (fake / "template.yaml").write_text(
        "format_version: 1\nversion: '1'\ndescription: d\nphase: p\nstep: s\n")
    (fake / "rubric.yaml").write_text(RUBRIC)
    (fake / "hidden" / "probe.py").write_text(PROBE)
    monkeypatch.setattr(templates, "templates_dir", lambda: tdir)
    monkeypatch.setattr(resources, "templates_dir", lambda: tdir)
    return fake


def make_project(where: Path, threshold: float = 0.5, reported: float | None = None) -> Path:
    root = where / "proj"
    (root / ".dlpath").mkdir(parents=True)
    (root / ".dlpath" / "project.json").write_text(json.dumps({
        "format_version": 1, "template": "fake", "template_version": "1",
        "dlpath_version": "0.1.0", "created": "2026-01-01T00:00:00+00:00",
        "answers": {}, "checksums": {}}))
    (root / "models").mkdir()
    (root / "models" / "model.json").write_text(json.dumps({"threshold": threshold}))
    (root / "learner.py").write_text(LEARNER)
    (root / "metrics").mkdir()
    if reported is not None:
        (root / "metrics" / "m.json").write_text(json.dumps({"accuracy": reported}))
    return root


def by_id(report) -> dict:
    return {c.id: c for c in report.all_checks}


def test_a_good_model_passes_every_probe_check_on_one_shared_run(fake_templates, tmp_path):
    root = make_project(tmp_path, threshold=0.5, reported=1.0)
    report = checker.evaluate(root, record=False)
    checks = by_id(report)
    assert {c.status for c in checks.values()} == {"pass"}, [c.message for c in checks.values()]
    assert "dlpath measured acc = 1 on fresh data (seed " in checks["acc"].message
    assert "metrics/m.json agrees (1)" in checks["acc"].message
    # one run, one seed for the three checks
    seed = checks["acc"].message.split("(seed ")[1].split(")")[0]
    assert checks["seed"].message.startswith(f"dlpath measured seed_seen = {int(seed) % 1000} ")
    assert checks["acc-hidden"].message == "hidden check passed"


def test_each_evaluation_draws_a_fresh_seed(fake_templates, tmp_path):
    root = make_project(tmp_path, reported=1.0)
    seen = set()
    for _ in range(3):
        msg = by_id(checker.evaluate(root, record=False, milestone="goal"))["seed"].message
        seen.add(msg.split("(seed ")[1])
    assert len(seen) == 3


def test_a_weak_model_fails_and_a_hidden_threshold_stays_hidden(fake_templates, tmp_path):
    # ~93% accurate: 2,000 fresh points put it at >= 0.95 with odds of about 2e-4
    root = make_project(tmp_path, threshold=0.57, reported=0.93)
    checks = by_id(checker.evaluate(root, record=False))
    assert checks["acc"].status == "pass"
    hidden = checks["acc-hidden"]
    assert hidden.status == "fail"
    assert hidden.message.startswith("hidden check failed: dlpath measured acc = 0.9")
    assert "not there yet" in hidden.message
    assert "0.95" not in hidden.message and "needs" not in hidden.message


def test_a_metrics_file_that_disagrees_with_the_model_fails(fake_templates, tmp_path):
    # The pipeline echoed a perfect figure; the model is 70% accurate.
    root = make_project(tmp_path, threshold=0.8, reported=0.99)
    acc = by_id(checker.evaluate(root, record=False))["acc"]
    assert acc.status == "fail"
    assert re.search(r"metrics/m.json says accuracy = 0.99, dlpath measured 0\.[67]\d* on "
                     r"fresh data \(seed \d+\)", acc.message)
    assert "re-run dvc repro" in acc.message
    # a missing report is the learner's unfinished work, with the way out
    (root / "metrics" / "m.json").unlink()
    acc = by_id(checker.evaluate(root, record=False))["acc"]
    assert acc.status == "fail" and "metrics/m.json does not exist yet" in acc.message


def test_each_missing_key_names_the_stubs_it_waits_for(fake_templates, tmp_path):
    """A probe may say which keys each stub leaves unmeasured: a check then
    names its own stubs, not the first one the probe met."""
    root = make_project(tmp_path, reported=1.0)
    (root / "learner.py").write_text(LEARNER + 'TODO = {"ac": "TODO: A", "acc": "TODO: B", '
                                               '"seed_": "TODO: C"}\n')
    checks = by_id(checker.evaluate(root, record=False))
    assert checks["acc"].message == "not implemented yet: TODO: B (and 1 more)"
    assert checks["seed"].message == "not implemented yet: TODO: C"


def test_missing_artefact_and_unfinished_code_fail_with_what_to_do(fake_templates, tmp_path):
    root = make_project(tmp_path, reported=1.0)
    (root / "learner.py").write_text(LEARNER + 'TODO = "TODO: predict: write predict() in '
                                               'learner.py; test: pytest"\n')
    checks = by_id(checker.evaluate(root, record=False))
    assert checks["acc"].status == "fail"
    assert checks["acc"].message == ("not implemented yet: TODO: predict: write predict() in "
                                     "learner.py; test: pytest")
    assert checks["acc-hidden"].message.startswith("hidden check failed: not implemented yet")
    (root / "learner.py").write_text("def predict(model, x):\n    raise NotImplementedError("
                                     "'TODO: predict: write predict() in learner.py')\n")
    checks = by_id(checker.evaluate(root, record=False))
    assert checks["acc"].message == ("not implemented yet: TODO: predict: write predict() "
                                     "in learner.py")
    (root / "models" / "model.json").unlink()
    checks = by_id(checker.evaluate(root, record=False))
    assert checks["acc"].status == "fail"
    assert "dlpath could not measure your model" in checks["acc"].message
    assert "FileNotFoundError" in checks["acc"].message


@pytest.mark.parametrize("trick", [
    "import os\nos._exit(0)\n",
    "import sys\nsys.exit(0)\n",
    # a result written on every descriptor, in the probe's own format but
    # without the per-run nonce
    "import json, os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, json.dumps("
    "{'ok': True, 'values': {'acc': 1.0, 'seed_seen': 1.0}, 'notes': [], 'bad': []})"
    ".encode())\n    except OSError:\n        pass\nos._exit(0)\n",
])
def test_project_code_cannot_end_the_probe_with_a_pass(fake_templates, tmp_path, trick):
    root = make_project(tmp_path, reported=1.0)
    (root / "learner.py").write_text(trick + LEARNER)
    checks = by_id(checker.evaluate(root, record=False))
    assert {c.status for c in checks.values()} == {"fail"}, [c.message for c in checks.values()]


def test_start_up_hooks_and_shadowing_modules_in_the_project_are_not_run(fake_templates,
                                                                          tmp_path):
    root = make_project(tmp_path, threshold=0.8, reported=0.7)
    marker = tmp_path / "hook-ran"
    hook = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\n"
    # start-up hooks, as the project root is on sys.path of an editable install
    (root / "sitecustomize.py").write_text(hook)
    (root / "usercustomize.py").write_text(hook)
    # a module named like one the probe imports
    (root / "random.py").write_text(hook + "def Random(seed):\n    raise SystemExit(0)\n")
    # a .pth file that an editable install of the project would leave
    (root / "proj.pth").write_text(f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n")
    checks = by_id(checker.evaluate(root, record=False))
    assert checks["acc"].status == "fail"  # measured ~0.7: the model, not a hook
    assert re.search(r"dlpath measured acc = 0\.[67]", checks["acc"].message)
    assert not marker.exists()


def test_sourceless_bytecode_cannot_stand_in_for_the_learner_code(fake_templates, tmp_path):
    import py_compile

    root = make_project(tmp_path, threshold=0.8, reported=0.7)
    cheat = root / "cheat.py"
    cheat.write_text("def predict(model, x):\n    return x > 0.5\n")
    py_compile.compile(str(cheat), cfile=str(root / "learner.pyc"))
    cheat.unlink()
    (root / "learner.py").unlink()  # only the compiled cheat is left
    checks = by_id(checker.evaluate(root, record=False))
    assert checks["acc"].status == "fail"
    assert "ModuleNotFoundError" in checks["acc"].message


def test_a_probe_past_its_timeout_is_killed_with_everything_it_started(fake_templates,
                                                                       tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    root = make_project(tmp_path, reported=1.0)
    (root / "learner.py").write_text(textwrap.dedent(f"""\
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                 start_new_session=True)
        open({str(pid_file)!r}, "w").write(str(child.pid))
        time.sleep(60)
    """))
    text = (fake_templates / "rubric.yaml").read_text().replace(
        "        hint: Train the model better.",
        "        timeout: 2\n        hint: Train the model better.")
    (fake_templates / "rubric.yaml").write_text(text)
    start = time.monotonic()
    report = checker.evaluate(root, record=False)
    acc = by_id(report)["acc"]
    assert time.monotonic() - start < 30
    assert acc.status == "fail" and "timed out after 2 s" in acc.message
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)


def test_no_commands_skips_probe_checks(fake_templates, tmp_path):
    root = make_project(tmp_path, reported=1.0)
    report = checker.evaluate(root, record=False, run_commands=False)
    assert {c.status for c in report.all_checks} == {"skipped"}


def test_measure_is_an_api_with_a_given_seed_and_the_challenge_flag(fake_templates, tmp_path):
    root = make_project(tmp_path, threshold=0.5)
    probe_file = probe_mod.probe_path(fake_templates)
    m = probe_mod.measure(root, probe_file, seed=1234, challenge=True)
    assert m.error is None and m.values == {"acc": 1.0, "seed_seen": 234.0}
    assert m.seed == 1234 and m.challenge


@pytest.mark.parametrize("reported, problem", [
    ("{file: m.json}", "missing field(s) tolerance"),
    ("{file: m.json, tolerance: 0.1, extra: 1}", "unknown field(s) extra"),
    ("{file: ../m.json, tolerance: 0.1}", "leaves the project"),
    ("{file: m.json, tolerance: -1}", "must be a non-negative number"),
    ("m.json", "must be a mapping with file, key and tolerance"),
])
def test_the_rubric_refuses_a_bad_reported_field(tmp_path, reported, problem):
    text = RUBRIC.replace("{file: metrics/m.json, key: accuracy, tolerance: 0.05}", reported)
    with pytest.raises(rubric.RubricError) as caught:
        rubric.parse(text, tmp_path / "rubric.yaml")
    assert problem in caught.value.message
