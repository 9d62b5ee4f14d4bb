"""Check kinds that ask DVC: ``dvc_tracked``, ``dvc_outputs_versioned``,
``dvc_stage``, ``dvc_up_to_date``, ``dvc_pushed``.

DVC's answers are kept in the state's cache with a fingerprint of what they
depend on (:func:`dvc_signature`), so a re-run with nothing changed does not
import DVC.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import yaml

from dlpath.checks.base import ERROR, FAIL, PASS, Context, Outcome, no_dvc
from dlpath.fsutil import load_yaml

DVC_FACTS_FORMAT = 1
_CONTROL_FILES = (".dvc/config", ".dvc/config.local", ".dvcignore", "dvc.yaml", "dvc.lock",
                  "params.yaml")


def _stat_line(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def dvc_signature(root: Path, facts: dict[str, Any]) -> str | None:
    """A fingerprint of everything DVC's answers in ``facts`` depend on, or
    None where they cannot be fingerprinted (a dependency or a remote off
    this machine).

    It trusts size, modification time and inode, as DVC's own hash cache
    does: every file DVC read (dvc files, dependencies and outputs, folders
    walked), its configuration, and the folders of the DVC cache and of a
    local remote (a push or a gc changes their modification times).
    """
    if facts.get("paths") is None or ("remote" not in facts):
        return None
    cloud = facts.get("cloud", {})
    if facts["remote"] is None and "status" in cloud:
        return None  # a remote off this machine: ask DVC every time
    digest = hashlib.sha256(f"{DVC_FACTS_FORMAT}:{_dvc_version()}".encode())
    for rel in sorted({*_CONTROL_FILES, *facts["paths"]}):
        path = root / rel
        digest.update(f"\0{rel}={_stat_line(path)}".encode())
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    sub = Path(folder, name)
                    digest.update(f"\0{sub.relative_to(root).as_posix()}="
                                  f"{_stat_line(sub)}".encode())
    for tree in (facts.get("cache"), facts.get("remote")):
        if tree is None:
            continue
        digest.update(f"\0tree {tree}={_stat_line(Path(tree))}".encode())
        for folder, dirs, _ in os.walk(tree):
            dirs.sort()
            for name in dirs:
                digest.update(f"\0{name}={_stat_line(Path(folder, name))}".encode())
    return digest.hexdigest()


def _dvc_version() -> str:
    """The installed DVC's version, read from the ``dvc/_version.py`` its
    build writes, without importing DVC or importlib.metadata (~30 ms of a
    re-run's CPU); importlib.metadata where that file is missing."""
    import importlib.util
    import re

    spec = importlib.util.find_spec("dvc")
    if spec is not None and spec.origin:
        try:
            text = Path(spec.origin).with_name("_version.py").read_text(encoding="utf-8")
        except OSError:
            text = ""
        found = re.search(r"^(?:__version__ = )?version = ['\"]([^'\"]+)['\"]", text, re.M)
        if found:
            return found.group(1)
    from importlib.metadata import version

    return version("dvc")


def _facts(ctx: Context) -> dict[str, Any]:
    """DVC's answers for this evaluation: reused from the last check when
    nothing they depend on changed (see :func:`dvc_signature`), else asked of
    DVC once (importing and opening DVC costs ~0.6 s) and kept for next time."""
    if ctx.dvc_facts is None:
        kept = ctx.cache.get("dvc") if ctx.use_cache else None
        if isinstance(kept, dict) and kept.get("key") and (
                dvc_signature(ctx.root, kept) == kept["key"]):
            ctx.dvc_facts, ctx.dvc_reused = kept, True
        else:
            from dlpath.fsutil import SpecialFileError

            for rel in _CONTROL_FILES:  # DVC would block reading a FIFO
                path = ctx.root / rel
                if path.exists() and not path.is_file():
                    raise SpecialFileError(f"{rel} is not a regular file (a FIFO, device or "
                                           "socket)")
            facts = ctx.ask_dvc()
            key = dvc_signature(ctx.root, facts) if ctx.use_cache else None
            if key is None:
                ctx.cache.pop("dvc", None)
            else:
                ctx.cache["dvc"] = {**facts, "key": key}
            ctx.dvc_facts = facts
    return ctx.dvc_facts


def _outs(ctx: Context) -> list[dict[str, Any]]:
    return _facts(ctx)["outs"]


def _with_reuse(ctx: Context, outcome: Outcome) -> Outcome:
    outcome.cached = ctx.dvc_reused
    return outcome


def dvc_tracked(ctx: Context, path: str) -> Outcome:
    if (missing := no_dvc(ctx)) is not None:
        return missing
    want = path.strip("/")
    tracked = [o for o in _outs(ctx) if o["path"] == want or o["path"].startswith(want + "/")
               or want.startswith(o["path"] + "/")]
    if not tracked:
        return _with_reuse(ctx, Outcome(
            FAIL, f"{path} is not a DVC output (dvc.yaml outs or dvc add)"))
    if ctx.has_git and ctx.git_tracked(want):
        return Outcome(FAIL, f"{path} is tracked by git too: git rm -r --cached {want}")
    return _with_reuse(ctx, Outcome(PASS, f"{path} is versioned by DVC"))


def dvc_outputs_versioned(ctx: Context) -> Outcome:
    """Every cached output exists, and none of them is tracked by git."""
    if (missing := no_dvc(ctx)) is not None:
        return missing
    outs = [o["path"] for o in _outs(ctx) if o["use_cache"]]
    if not outs:
        return Outcome(FAIL, "the pipeline declares no cached outputs")
    absent = [o for o in outs if not ctx.path(o).exists()]
    if absent:
        return Outcome(FAIL, f"output(s) not produced yet: {', '.join(absent[:4])}")
    if ctx.has_git:
        in_git = [o for o in outs if ctx.git_tracked(o)]
        if in_git:
            return Outcome(FAIL, f"committed to git instead of DVC: {', '.join(in_git[:4])}")
    return _with_reuse(ctx, Outcome(PASS, f"{len(outs)} output(s) versioned by DVC"))


def _stages(path: Path, memo: dict[Any, Any] | None = None) -> dict[str, Any]:
    """The ``stages`` of a dvc.yaml (read only: with ``memo``, one
    evaluation's, every dvc_stage check gets the same parsed file: each reads
    the project's and the reference's)."""
    from dlpath.fsutil import read_text_limited

    key = ("dvc.yaml stages", str(path), _stat_line(path))
    if memo is None or key not in memo:
        data = load_yaml(read_text_limited(path)) or {}
        stages = data.get("stages") if isinstance(data, dict) else None
        stages = stages if isinstance(stages, dict) else {}
        if memo is None:
            return stages
        memo[key] = stages
    return memo[key]


def _paths(entries: Any) -> set[str]:
    """The paths of a stage's ``deps``/``outs`` (plain strings or one-key mappings)."""
    found = set()
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str):
            found.add(entry.strip("/"))
        elif isinstance(entry, dict):
            found.update(str(k).strip("/") for k in entry)
    return found


def _program(cmd: Any) -> str | None:
    """What a stage's command runs: the module of ``python -m X``, the script
    of ``python x.py``, else the first word."""
    import shlex

    text = " ".join(cmd) if isinstance(cmd, list) else str(cmd or "")
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    if not words:
        return None
    if Path(words[0]).name.startswith("python") and len(words) > 1:
        return words[2] if words[1] == "-m" and len(words) > 2 else words[1]
    return words[0]


def dvc_stage(ctx: Context, name: str) -> Outcome:
    """The stage is in dvc.yaml; in a project made by dlpath, it still runs
    what the template's stage runs, and still declares the template's
    dependencies and outputs (a stage that echoes numbers does not count)."""
    dvc_yaml = ctx.path("dvc.yaml")
    if not dvc_yaml.is_file():
        return Outcome(FAIL, "dvc.yaml does not exist")
    try:
        stages = _stages(dvc_yaml, ctx.parse_memo)
    except yaml.YAMLError as exc:
        return Outcome(ERROR, f"dvc.yaml is not valid YAML: {exc}")
    if name not in stages:
        return Outcome(FAIL, f"dvc.yaml has no stage {name!r}")
    stage = stages[name] if isinstance(stages[name], dict) else {}
    ref_file = ctx.reference / "dvc.yaml" if ctx.reference is not None else None
    try:
        ref = (_stages(ref_file, ctx.parse_memo).get(name)
               if ref_file and ref_file.is_file() else None)
    except (yaml.YAMLError, OSError, ValueError):
        ref = None
    if isinstance(ref, dict):
        program = _program(ref.get("cmd"))
        mine = _program(stage.get("cmd"))
        if program and mine != program:
            return Outcome(FAIL, f"stage {name} no longer runs {program} (its command is "
                                 f"{str(stage.get('cmd'))[:60]!r})")
        for field, what in (("deps", "depends on"), ("outs", "writes")):
            missing = sorted(_paths(ref.get(field)) - _paths(stage.get(field)))
            if missing:
                return Outcome(FAIL, f"stage {name} no longer {what} "
                                     f"{', '.join(missing[:3])} (the template declares it)")
        return Outcome(PASS, f"stage {name} runs {program} with the template's inputs")
    return Outcome(PASS, f"stage {name} is defined")


def dvc_up_to_date(ctx: Context) -> Outcome:
    if (missing := no_dvc(ctx)) is not None:
        return missing
    if not ctx.path("dvc.lock").is_file():
        return Outcome(FAIL, "the pipeline has never run (no dvc.lock)")
    status = _facts(ctx)["status"]
    if set(status) == {"error"} and isinstance(status["error"], str):
        return Outcome(ERROR, f"dvc status failed: {status['error']}")
    if not status:
        return _with_reuse(ctx, Outcome(PASS, "dvc status: data and pipelines are up to date"))
    return _with_reuse(ctx, Outcome(
        FAIL, f"changed since the last run: {', '.join(sorted(status)[:4])}"))


def dvc_pushed(ctx: Context) -> Outcome:
    if (missing := no_dvc(ctx)) is not None:
        return missing
    if not any(o["use_cache"] and o["hashed"] for o in _outs(ctx)):
        return Outcome(FAIL, "nothing versioned by DVC yet (run the pipeline first)")
    cloud = _facts(ctx)["cloud"]
    if cloud.get("no_remote"):
        return Outcome(FAIL, "no default DVC remote (add one: dvc remote add -d NAME URL)")
    if "error" in cloud:
        return Outcome(ERROR, f"cannot compare with the remote: {cloud['error']}")
    if not cloud["status"]:
        return _with_reuse(ctx, Outcome(PASS, "every output is in the remote"))
    names = sorted(cloud["status"])
    more = f" and {len(names) - 4} more" if len(names) > 4 else ""
    return _with_reuse(ctx, Outcome(
        FAIL, f"{len(names)} file(s) not in the remote: {', '.join(names[:4])}{more}"))


