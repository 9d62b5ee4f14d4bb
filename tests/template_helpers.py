"""What the template test modules share: one timed `dvc repro` per module,
reading metrics, the generated project's own tests and ruff, the goal
milestones, and re-running a stage to show it is deterministic.

Every hands-on template is proven in three states (shared/LEARNING.md):

* fresh: ``reproduce()`` -- the pipeline runs, the goal milestones fail with a
  hint naming the file and function to write (``assert_milestone_fails``);
* reference: ``solve()`` writes the solution regions' reference code over the
  learner files (``clone()`` first to keep the fresh project), ``dvc repro``
  again, and every milestone passes (``assert_milestones_pass``);
* shortcut: ``replace_function()`` plants the cheapest way around a skill in a
  clone, and the milestone that must catch it fails.
"""

from __future__ import annotations

import ast
import hashlib
import json
import shutil
import sys
import textwrap
import time
from pathlib import Path

from dlpath import checker, rubric, solutions, templates
from tests.conftest import dvc, make_project, run

PKG = "proj"  # the package of a project named "proj"


def timed_repro(root: Path, label: str) -> float:
    """``dvc repro`` in ``root``; the seconds it took, printed under ``label``
    and never asserted: repro times live in bench/."""
    start = time.perf_counter()
    dvc("repro", cwd=root)
    seconds = time.perf_counter() - start
    print(f"\n{label}: dvc repro took {seconds:.1f} s")
    return seconds


def reproduce(template: str, tmp_path_factory) -> tuple[Path, float]:
    """Generate the template's project and run its pipeline; (root, seconds)."""
    root = make_project(template, tmp_path_factory.mktemp(template))
    return root, timed_repro(root, template)


# ------------------------------------------------- projects built once a session

STATES = ("fresh", "solved")


def built(template: str, state: str, tmp_path_factory) -> Path:
    """A private clone of ``template``'s project in ``state``:

    * ``fresh``: generated, then ``dvc repro`` (no learner code);
    * ``solved``: a clone of the fresh one with the reference solution
      written over it (``solve()``), then ``dvc repro`` again.

    Each state is built once per test session and shared by every module that
    asks for it, across pytest-xdist workers (a file lock makes the others
    wait for the first), so two modules that need the same reproduced project
    pay for one pipeline run. Callers get their own clone and may change it.
    """
    assert state in STATES, state
    return clone(_build(template, state, _shared_dir(tmp_path_factory)),
                 tmp_path_factory.mktemp(f"{template}-{state}"))


def _shared_dir(tmp_path_factory) -> Path:
    """A folder every xdist worker of this run sees: the parent of the
    workers' base temp folders (the base itself without xdist)."""
    import os

    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "built"
    shared.mkdir(exist_ok=True)
    return shared


def _build(template: str, state: str, shared: Path) -> Path:
    import fcntl

    where = shared / f"{template}-{state}"
    with open(shared / f"{template}-{state}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = shared / f"{template}-{state}.done"
        if done.exists():
            return Path(done.read_text())
        if where.exists():  # a build that failed half-way in another worker
            shutil.rmtree(where)
        where.mkdir()
        if state == "fresh":
            root = make_project(template, where)
        else:
            root = clone(_build(template, "fresh", shared), where)
            solve(root)
        timed_repro(root, f"{template} ({state})")
        done.write_text(str(root))
        return root


def read_metrics(root: Path, name: str) -> dict:
    return json.loads((root / "metrics" / f"{name}.json").read_text())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_project_tests_and_ruff_pass(root: Path) -> None:
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root)
    assert " passed" in result.stdout and "failed" not in result.stdout
    run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=root)


def assert_milestones_pass(root: Path, *milestones: str) -> None:
    """Every check of each milestone passes, hidden ones included."""
    for milestone in milestones:
        report = checker.evaluate(root, milestone=milestone, record=False)
        failing = [(c.id, c.message) for c in report.all_checks if c.status != "pass"]
        assert not failing, failing


def assert_milestone_fails(root: Path, milestone: str, *, mentions: tuple[str, ...] = (),
                           check: str | None = None, run_commands: bool = True) -> list:
    """The milestone does not pass; when ``check`` is given, that check is
    among the failing ones. Every string in ``mentions`` (a file, a function,
    a test) appears in what a learner is told about some failing check: its
    message or its hint. Returns the failing check reports."""
    report = checker.evaluate(root, milestone=milestone, record=False,
                              run_commands=run_commands)
    failing = [c for c in report.all_checks if c.status in ("fail", "error")]
    assert failing, f"{milestone} passed: {[(c.id, c.message) for c in report.all_checks]}"
    if check is not None:
        assert check in [c.id for c in failing], [(c.id, c.message) for c in report.all_checks]
    told = "\n".join(f"{c.message}\n{c.hint}" for c in failing)
    for text in mentions:
        assert text in told, f"{text!r} is not named in:\n{told}"
    return failing


def timing_checks(template: str) -> set[str]:
    """The template's checks judged on a latency ratio, as "milestone/check".

    Tests assert these were measured, never that they pass or fail near their
    bar: a ratio timed while the suite's other worker trains models, on a CPU
    we do not choose, can cross a bar either way. Speed goals live in bench/
    (bench/bench_quantization.py prints the reference's ratios)."""
    milestones = rubric.load_file(templates.get(template).rubric_path)
    return {f"{m.id}/{c.id}" for m in milestones for c in m.checks
            if c.kind == "probe" and "latency" in str(c.args.get("key", ""))}


def untimed_failures(report, template: str) -> list[str]:
    """"milestone/check" of every check that did not pass, timing checks
    left out once they show a measurement (see ``timing_checks``)."""
    timed = timing_checks(template)
    out = []
    for c in report.all_checks:
        name = f"{c.milestone}/{c.id}"
        if name in timed:
            assert "dlpath measured" in c.message, (name, c.message)
            print(f"{name}: {c.status}, {c.message}")
        elif c.status != "pass":
            out.append(name)
    return sorted(out)


def clone(root: Path, where: Path) -> Path:
    """A copy of a project (git, DVC cache and outputs included) at ``where/NAME``,
    with DVC's links and modification times intact, so DVC sees what it saw."""
    dest = where / root.name
    shutil.copytree(root, dest, symlinks=True)
    return dest


def solve(root: Path, only: list[str] | None = None) -> list[str]:
    """Write the reference solution over the project's learner files."""
    return solutions.apply_reference(root, only)


def replace_function(root: Path, rel: str, qualname: str, source: str) -> None:
    """Replace the function ``qualname`` (``f`` or ``Class.f``) in ``root/rel``
    by ``source`` (a def, at any indentation): a shortcut planted as a learner
    would write it."""
    path = root / rel
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    target = None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for child in node.body:
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    child.qualname = f"{node.name}.{child.name}"  # type: ignore[attr-defined]
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and getattr(
                node, "qualname", node.name) == qualname:
            target = node
            break
    assert target is not None, f"no function {qualname} in {rel}"
    lines = text.splitlines(keepends=True)
    first = min([target.lineno, *(d.lineno for d in target.decorator_list)]) - 1
    indent = lines[target.lineno - 1][: target.col_offset]
    body = textwrap.indent(textwrap.dedent(source).strip("\n") + "\n", indent)
    path.write_text("".join(lines[:first]) + body + "".join(lines[target.end_lineno:]),
                    encoding="utf-8")


def assert_stages_rewrite_identically(root: Path, stages: list[str], outputs: list[str]) -> None:
    """Re-running the stages rewrites ``outputs`` byte for byte, and DVC sees
    nothing to redo: same seed, same results."""
    before = {p: sha256(root / p) for p in outputs}
    for stage in stages:
        run([sys.executable, "-m", f"{PKG}.{stage}"], cwd=root)
    assert {p: sha256(root / p) for p in outputs} == before
    assert json.loads(dvc("status", "--json", cwd=root).stdout) == {}


# ------------------------------------------------------- stage deps vs imports


def _module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(root: Path, path: Path) -> set[Path]:
    """The project files ``path`` imports directly (absolute and relative)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel_parts = path.relative_to(root).with_suffix("").parts
    package = rel_parts[:-1] if path.name != "__init__.py" else rel_parts[:-1]
    found: set[Path] = set()

    def add(dotted: str) -> None:
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):  # a.b.c imports a, a.b and a.b.c
            hit = _module_file(root, ".".join(parts[:i]))
            if hit is not None:
                found.add(hit)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = list(package[: len(package) - node.level + 1])
                dotted = ".".join(anchor + ([node.module] if node.module else []))
            else:
                dotted = node.module or ""
            add(dotted)
            for alias in node.names:  # `from pkg import module`
                add(f"{dotted}.{alias.name}")
    return {f for f in found if f != path}


def _matters(path: Path) -> bool:
    """An __init__.py with only a docstring (or nothing) runs no code worth a dep."""
    if path.name != "__init__.py":
        return True
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return any(not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
               for n in body)


def stage_import_gaps(root: Path) -> dict[str, list[str]]:
    """For every stage of ``root/dvc.yaml``: the project files the stage's
    command imports (transitively) that its deps do not cover. A dep covers a
    file when it is the file or a folder above it."""
    import re

    import yaml

    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    gaps: dict[str, list[str]] = {}
    for name, stage in stages.items():
        stage = stage.get("do", stage)
        cmds = stage["cmd"] if isinstance(stage["cmd"], list) else [stage["cmd"]]
        starts: set[Path] = set()
        for cmd in cmds:
            for dotted in re.findall(r"-m\s+([\w.]+)", cmd):
                hit = _module_file(root, dotted)
                if hit is not None:
                    starts.add(hit)
            for script in re.findall(r"(?:^|\s)([\w./-]+\.py)\b", cmd):
                if (root / script).is_file():
                    starts.add(root / script)
        assert starts, f"stage {name}: no project module found in {cmds}"
        seen, todo = set(), list(starts)
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            todo.extend(_imports(root, current))
        deps = [str(d).rstrip("/") for d in stage.get("deps", [])]
        missing = sorted(
            rel for rel in (p.relative_to(root).as_posix() for p in seen if _matters(p))
            if not any(rel == d or rel.startswith(d + "/") for d in deps))
        if missing:
            gaps[name] = missing
    return gaps
