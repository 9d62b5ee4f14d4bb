"""``dlpath leaderboard`` in a project: its DVC experiments (``dvc exp show
--json``) ranked by the template's declared leaderboard metric, with its
direction and tie-breakers (dlpath.declarations), each marked by whether it
meets the thresholds of the template's leaderboard milestone.

Across learners (``--board``), see dlpath.boards. Nothing here prints.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlpath import declarations, project, templates
from dlpath.errors import DlpathError, UsageError


@dataclass
class Row:
    name: str
    rev: str
    baseline: bool
    metrics: dict[str, float | None]
    params: dict[str, Any] = field(default_factory=dict)
    #: meets every metric threshold of the milestone (None: nothing to judge)
    meets: bool | None = None
    rank: int | None = None
    #: who and what (boards): the learner's name and key
    learner: str | None = None
    signer: str | None = None
    commit: str | None = None
    issued: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"rank": self.rank, "name": self.name, "rev": self.rev,
               "baseline": self.baseline, "metrics": self.metrics, "meets": self.meets}
        if self.params:
            out["params"] = self.params
        if self.signer is not None:
            out.update(learner=self.learner, signer=self.signer, commit=self.commit,
                       issued=self.issued)
        return out


@dataclass
class Ranking:
    template: str
    spec: declarations.Leaderboard
    rows: list[Row]
    #: entries a board rejected: (entry, reason)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    board: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        spec = self.spec
        return {"format_version": 1, "template": self.template, "board": self.board,
                "milestone": spec.milestone,
                "metric": {"key": spec.metric.key, "file": spec.metric.file,
                           "direction": spec.metric.direction},
                "tie_breakers": [{"key": m.key, "file": m.file, "direction": m.direction}
                                 for m in spec.tie_breakers],
                "rows": [r.to_json() for r in self.rows],
                "rejected": [{"entry": e, "reason": r} for e, r in self.rejected]}


def spec_for(template_name: str) -> tuple[templates.Template, declarations.Leaderboard]:
    template = templates.get(template_name)
    if template.leaderboard is None:
        with_one = sorted(n for n, t in templates.available().items()
                          if t.leaderboard is not None)
        raise UsageError(f"The '{template_name}' template declares no leaderboard metric.",
                         hint=(f"Templates with one: {', '.join(with_one)}." if with_one
                               else "No installed template declares one yet."))
    return template, template.leaderboard


def lookup(data: Any, key: str) -> float | None:
    node = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, (int, float)) or not math.isfinite(node):
        return None
    return float(node)


def order(rows: list[Row], spec: declarations.Leaderboard) -> list[Row]:
    """Rows ranked by the metric then each tie-breaker; rows without the
    metric come last, unranked; equal rows share a rank, the earliest issued
    (on a board) listed first."""

    def key(row: Row) -> tuple:
        parts = []
        for m in spec.metrics:
            value = row.metrics.get(m.key)
            if value is None:
                parts.append((1, 0.0))
            else:
                parts.append((0, -value if m.direction == "higher" else value))
        return tuple(parts)

    ranked = sorted((r for r in rows if r.metrics.get(spec.metric.key) is not None),
                    key=lambda r: (key(r), r.issued or ""))
    unranked = [r for r in rows if r.metrics.get(spec.metric.key) is None]
    previous, rank = None, 0
    for index, row in enumerate(ranked, start=1):
        if key(row) != previous:
            rank, previous = index, key(row)
        row.rank = rank
    return ranked + unranked


def meets(milestone_checks: list, metrics_by_file: dict[str, Any]) -> bool | None:
    """Whether the metric checks of a milestone (kinds ``metric`` and
    ``metric_ratio``) hold for one experiment's metrics files."""
    from dlpath.checks.metrics import compare

    judged = None
    for check in milestone_checks:
        args = check.args
        data = metrics_by_file.get(args.get("file"))
        if check.kind == "metric":
            value = lookup(data, args["key"])
            ok = value is not None and compare(value, args["op"], args["value"],
                                               args.get("tolerance", 0.0))
        elif check.kind == "metric_ratio":
            num, den = lookup(data, args["numerator"]), lookup(data, args["denominator"])
            ok = num is not None and bool(den) and compare(num / den, args["op"], args["value"])
        else:
            continue
        judged = ok if judged is None else judged and ok
    return judged


def _exp_show(root: Path) -> list[dict[str, Any]]:
    import os
    import subprocess
    import sys

    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.run([sys.executable, "-m", "dvc", "exp", "show", "--json"], cwd=root,
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise DlpathError(f"dvc exp show failed: {first}",
                          hint="Run 'dvc exp show' to see why (is another DVC command running?)")
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise DlpathError("dvc exp show printed no JSON.") from None
    return data if isinstance(data, list) else []


def _row(entry: dict[str, Any], spec: declarations.Leaderboard, checks: list, baseline: bool,
         base_params: dict[str, Any]) -> Row | None:
    data = entry.get("data") if isinstance(entry.get("data"), dict) else None
    if data is None or entry.get("error"):
        return None
    by_file = {f: (v or {}).get("data") for f, v in (data.get("metrics") or {}).items()
               if isinstance(v, dict)}
    metrics = {m.key: lookup(by_file.get(m.file), m.key) for m in spec.metrics}
    params = {}
    for value in (data.get("params") or {}).values():
        flat: dict[str, Any] = {}
        _flatten((value or {}).get("data") or {}, "", flat)
        params.update({k: v for k, v in flat.items() if base_params.get(k) != v or baseline})
    rev = str(entry.get("rev") or data.get("rev") or "")
    return Row(name=str(entry.get("name") or rev[:7]), rev=rev, baseline=baseline,
               metrics=metrics, params={} if baseline else params, meets=meets(checks, by_file))


def _flatten(node: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = node


def in_project(where: Path) -> Ranking:
    """The project's baseline commit and its DVC experiments, ranked."""
    from dlpath import rubric

    where = where.resolve()
    root = project.find_root(where) if where.is_dir() else None
    meta = project.load_meta(root) if root else None
    if root is None or meta is None:
        raise UsageError(f"'{where}' is not inside a project made by 'dlpath new'.",
                         hint="Run it in your project, or rank a class board: dlpath "
                              "leaderboard --board LOCATION")
    _, spec = spec_for(meta.template)
    if not (root / ".dvc").is_dir():
        raise DlpathError("This project has no DVC: there are no experiments to rank.",
                          hint="dvc init, then dvc exp run")
    the_rubric = rubric.load_for_project(root)
    checks = the_rubric.milestone(spec.milestone).checks
    rows = []
    for entry in _exp_show(root):
        if not isinstance(entry, dict) or entry.get("rev") == "workspace":
            continue
        base = _row(entry, spec, checks, True, {})
        if base is None:
            continue
        rows.append(base)
        base_params = {}
        _params_of(entry, base_params)
        for exp in entry.get("experiments") or []:
            for rev in (exp or {}).get("revs") or []:
                row = _row(rev, spec, checks, False, base_params)
                if row is not None:
                    rows.append(row)
    return Ranking(template=meta.template, spec=spec, rows=order(rows, spec))


def _params_of(entry: dict[str, Any], out: dict[str, Any]) -> None:
    data = entry.get("data") or {}
    for value in (data.get("params") or {}).values():
        _flatten((value or {}).get("data") or {}, "", out)
