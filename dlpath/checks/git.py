"""Check kinds that read the git history: ``git_commits``, ``git_clean``,
``git_tag``, and ``params_changed`` (params.yaml against the first commit and
DVC experiments)."""

from __future__ import annotations

import fnmatch
from typing import Any

from dlpath.checks.base import FAIL, PASS, Context, Outcome, no_git
from dlpath.fsutil import load_yaml, read_text_limited


def git_commits(ctx: Context, min: int) -> Outcome:  # noqa: A002 - rubric field name
    if (missing := no_git(ctx)) is not None:
        return missing
    try:
        count = ctx.gitstate.commit_count() - 1
    except Exception:
        count = -1
    if count >= min:
        return Outcome(PASS, f"{count} commit(s) beyond the first")
    return Outcome(FAIL, f"{max(count, 0)} commit(s) beyond the first, needs {min}",
                   first=_identity_first(ctx))


def _identity_first(ctx: Context) -> str | None:
    """The identity step where git here would refuse the commit the hint asks for."""
    from dlpath import vcs

    try:
        return None if ctx.gitstate.has_identity() else vcs.IDENTITY_STEP
    except Exception:  # never let the advice break the check
        return None


def git_clean(ctx: Context) -> Outcome:
    if (missing := no_git(ctx)) is not None:
        return missing
    status = ctx.gitstate.status()
    if not status:
        return Outcome(PASS, "nothing uncommitted")
    shown = ", ".join(line[3:] for line in status[:5])
    more = f" and {len(status) - 5} more" if len(status) > 5 else ""
    return Outcome(FAIL, f"uncommitted changes: {shown}{more}", first=_identity_first(ctx))


def git_tag(ctx: Context, pattern: str = "*") -> Outcome:
    if (missing := no_git(ctx)) is not None:
        return missing
    tags = [t for t in ctx.gitstate.tags() if fnmatch.fnmatch(t, pattern)]
    if tags:
        return Outcome(PASS, f"tag {tags[0]}")
    return Outcome(FAIL, f"no tag matches {pattern}")



def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flatten(value, f"{prefix}{key}."))
    return {k.rstrip("."): v for k, v in flat.items()}


def _changed(before: dict, after: dict, keys: list[str] | None) -> list[str]:
    names = keys or sorted(set(before) | set(after))
    return [k for k in names if before.get(k) != after.get(k)]


def params_changed(ctx: Context, keys: list[str] | None = None,
                   experiment: bool = False) -> Outcome:
    if (missing := no_git(ctx)) is not None:
        return missing
    try:
        first = ctx.gitstate.first_commit()
        defaults = _flatten(load_yaml(ctx.gitstate.blob(first, "params.yaml")) or {})
    except Exception:
        return Outcome(FAIL, "params.yaml is not in the first commit")
    candidates: list[tuple[str, str]] = []
    for sha, ref in ctx.gitstate.experiments():
        parts = ref.split("/")
        if len(parts) == 5 and parts[2] != "exec":  # refs/exps/<ab>/<baseline>/<name>
            candidates.append((f"experiment {parts[-1]}", sha))
    if not experiment:
        candidates.append(("params.yaml", "WORKSPACE"))
    for label, sha in candidates:
        try:
            if sha == "WORKSPACE":
                text = read_text_limited(ctx.path("params.yaml"))
            else:
                text = ctx.gitstate.blob(sha, "params.yaml")
            changed = _changed(defaults, _flatten(load_yaml(text) or {}), keys)
        except Exception:
            continue
        if changed:
            return Outcome(PASS, f"{label} changes {', '.join(changed[:4])}")
    if experiment:
        return Outcome(FAIL, "no DVC experiment with changed params "
                             "(run: dvc exp run --set-param KEY=VALUE)")
    return Outcome(FAIL, "params are still the template's defaults")


def uncommitted_params_note(ctx: Context) -> str:
    """`` (params.yaml differs from your last commit (k: a -> b): ...)`` when
    the workspace's params are not the committed ones, else ``""``."""
    if not ctx.has_git:
        return ""
    try:
        committed = _flatten(load_yaml(ctx.gitstate.blob("HEAD", "params.yaml")) or {})
        current = _flatten(load_yaml(read_text_limited(ctx.path("params.yaml")))
                           or {})
    except Exception:  # no commit, no params.yaml, not YAML: nothing to say
        return ""
    changed = _changed(committed, current, None)
    if not changed:
        return ""
    shown = ", ".join(f"{k}: {committed.get(k, '(none)')} -> {current.get(k, '(none)')}"
                      for k in changed[:3])
    more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
    return (f" (params.yaml differs from your last commit ({shown}{more}): this result "
            "comes from those params; `git restore params.yaml && dvc repro` judges the "
            "committed ones)")
