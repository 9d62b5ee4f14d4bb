"""``dlpath credential MILESTONE|challenge``: an Open Badges 3.0 credential (a
W3C Verifiable Credential, data model 2.0) for one passed milestone or one
passed challenge on fresh data, signed with the learner's own key
(dlpath.keys) in an embedded ``eddsa-jcs-2022`` proof (dlpath.proof).

The credential is self-issued: issuer and subject are the learner's
``did:key``. Its evidence is what lets anyone re-run it (``dlpath verify FILE
--project PATH``): the commit, the SHA-256 of the metrics files and of
``dvc.lock`` at that commit, the metrics' values, the dlpath and template
versions, the check report (hidden checks only as passed/failed), how many
hints and solutions were viewed, and, for a challenge, its seed and scores.
See docs/credentials.md for what it proves and what it does not.

Nothing here prints.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dlpath import keys, project, proof, templates, vcs
from dlpath.errors import DlpathError, ExitCode, UsageError

CONTEXT = ["https://www.w3.org/ns/credentials/v2",
           "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
#: what marks a credential as dlpath's (the evidence's genre) and its layout
GENRE = "dlpath evidence"
EVIDENCE_FORMAT = 1
CHALLENGE = "challenge"
#: metrics values kept in the evidence, at most
MAX_METRICS = 200
CREDENTIALS_DIR = "credentials"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# ----------------------------------------------------------------- evidence


def blob(root: Path, commit: str, rel: str) -> bytes | None:
    """A file's bytes as committed (None where the commit has no such file)."""
    import subprocess

    proc = subprocess.run(["git", *vcs.GIT_SAFE_CONFIG, "cat-file", "blob", f"{commit}:{rel}"],
                          cwd=root, capture_output=True, stdin=subprocess.DEVNULL)
    return proc.stdout if proc.returncode == 0 else None


def metrics_files(root: Path, commit: str, extra: list[str] | None = None) -> list[str]:
    """The metrics files the commit's ``dvc.yaml`` declares (plus ``extra``)."""
    import yaml

    found = list(extra or [])
    text = blob(root, commit, "dvc.yaml")
    try:
        data = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        data = None
    stages = data.get("stages") if isinstance(data, dict) else None
    for stage in (stages or {}).values():
        for entry in (stage.get("metrics") or []) if isinstance(stage, dict) else []:
            name = entry if isinstance(entry, str) else (
                next(iter(entry)) if isinstance(entry, dict) and entry else None)
            if isinstance(name, str):
                found.append(name)
    return sorted(dict.fromkeys(found))


def file_hashes(root: Path, commit: str, files: list[str]) -> dict[str, str]:
    """``{path: "sha256:<hex>"}`` of each file as committed, ``dvc.lock`` included."""
    hashes = {}
    for rel in [*files, "dvc.lock"]:
        data = blob(root, commit, rel)
        if data is not None:
            hashes[rel] = "sha256:" + hashlib.sha256(data).hexdigest()
    return hashes


def _flatten(node: Any, prefix: str, out: dict[str, float]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(node, (int, float)) and not isinstance(node, bool) and math.isfinite(node):
        out[prefix] = node


def metric_values(root: Path, commit: str, files: list[str]) -> dict[str, dict[str, float]]:
    """``{file: {dotted key: number}}`` as committed (numbers only)."""
    import yaml

    values = {}
    for rel in files:
        data = blob(root, commit, rel)
        if data is None:
            continue
        try:
            parsed = json.loads(data)
        except ValueError:
            try:
                parsed = yaml.safe_load(data)
            except yaml.YAMLError:
                continue
        flat: dict[str, float] = {}
        _flatten(parsed, "", flat)
        values[rel] = dict(sorted(flat.items())[:MAX_METRICS])
    return values


def first_commit(root: Path) -> str:
    """The project's identity: its root commit (the earliest, where several)."""
    roots = vcs.git_output(root, "rev-list", "--max-parents=0", "HEAD").split()
    return sorted(roots)[0] if roots else ""


def assistance(root: Path, milestone: str) -> dict[str, Any]:
    """The hints and solutions the learner viewed for ``milestone``, as dlpath
    recorded them in the project (``dlpath hint``/``dlpath solution``)."""
    from dlpath import results

    record = results.load(root).get("assistance", {})
    entry = record.get(milestone) if isinstance(record, dict) else None
    entry = entry if isinstance(entry, dict) else {}
    level = entry.get("hint_level")
    viewed = entry.get("solution")
    return {"hints": level if isinstance(level, int) and not isinstance(level, bool) else 0,
            "solutions": 1 if isinstance(viewed, dict) else 0,
            "solutionBeforePassing": bool(isinstance(viewed, dict)
                                          and viewed.get("before_passing"))}


def report_evidence(milestone) -> dict[str, Any]:
    """A milestone's check report (dlpath.checker.MilestoneReport), hidden
    checks as their public messages only."""
    return {"milestone": milestone.id, "title": milestone.title, "status": milestone.status,
            "score": milestone.score, "maxScore": milestone.max_score,
            "checks": [{"id": c.id, "kind": c.kind, "status": c.status, "message": c.message,
                        "visibility": "visible" if c.visible else "hidden"}
                       for c in milestone.checks]}


# ----------------------------------------------------------------- evaluating


def evaluate_milestone(root: Path, milestone: str):
    """The milestone's report from a fresh local check (no cached result)."""
    import inspect

    from dlpath import checker

    kwargs: dict[str, Any] = {"milestone": milestone}
    if "use_cache" in inspect.signature(checker.evaluate).parameters:
        kwargs["use_cache"] = False
    report = checker.evaluate(root, **kwargs)
    return report.milestones[0], report


# ----------------------------------------------------------------- issuing


@dataclass
class Issued:
    path: Path
    credential: dict[str, Any]
    did: str
    what: str
    commit: str
    warnings: list[str]


def _subject_name(root: Path) -> str:
    try:
        name = vcs.git_output(root, "config", "--get", "user.name").strip()
    except DlpathError:
        name = ""
    return name or "A dlpath learner"


def build(*, did: str, name: str, meta: project.ProjectMeta, template: templates.Template,
          achievement_id: str, title: str, criteria: str, evidence: dict[str, Any],
          issued: str) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential."""
    from dlpath import __version__

    return {
        "@context": CONTEXT,
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"dlpath: {title}",
        "issuer": {"id": did, "type": ["Profile"], "name": f"{name} (self-issued with dlpath)"},
        "validFrom": issued,
        "credentialSubject": {
            "id": did,
            "type": ["AchievementSubject"],
            "name": name,
            "achievement": {
                "id": f"urn:dlpath:achievement:{achievement_id}",
                "type": ["Achievement"],
                "achievementType": "MicroCredential",
                "name": title,
                "description": (f"{title}: a skill of dlpath's '{meta.template}' project "
                                f"template, version {template.version}."),
                "criteria": {"narrative": criteria},
                "creator": {"id": "https://pypi.org/project/dlpath/", "type": ["Profile"],
                            "name": f"dlpath {__version__}"},
            },
        },
        "evidence": [evidence],
    }


def _evidence_base(root: Path, meta: project.ProjectMeta, template: templates.Template,
                   commit: str, kind: str, extra_files: list[str]) -> dict[str, Any]:
    from dlpath import __version__

    files = metrics_files(root, commit, extra_files)
    return {
        "id": f"urn:dlpath:evidence:{commit}",
        "type": ["Evidence"],
        "genre": GENRE,
        "format": EVIDENCE_FORMAT,
        "kind": kind,
        "project": {"name": root.name, "firstCommit": first_commit(root)},
        "commit": commit,
        "files": file_hashes(root, commit, files),
        "metrics": metric_values(root, commit, files),
        "dlpathVersion": __version__,
        "template": meta.template,
        "templateVersion": template.version,
        "projectTemplateVersion": meta.template_version,
    }


def _extra_files(template: templates.Template) -> list[str]:
    files = []
    if template.challenge is not None:
        files += [s.test_file for s in template.challenge.scores if s.test_file]
    if template.leaderboard is not None:
        files += [m.file for m in template.leaderboard.metrics]
    return files


def default_path(root: Path, label: str, commit: str) -> Path:
    from dlpath import resources

    folder = resources.user_dir() / CREDENTIALS_DIR
    stem = f"{root.name}-{label}-{commit[:8]}"
    path = folder / f"{stem}.json"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.json"
    return path


def _write(path: Path, document: dict[str, Any], root: Path) -> None:
    from dlpath.fsutil import atomic_write_text, is_within

    if path.exists():
        raise UsageError(f"{path} already exists; dlpath never overwrites a file.",
                         hint="Name another file with --output, or move that one away.")
    if is_within(path, root):
        raise UsageError(f"{path} is inside the project: a credential there would make the "
                         "project's tree dirty (and could be committed by mistake).",
                         hint="Write it outside the project (the default is dlpath's "
                              "per-user folder).")
    try:
        atomic_write_text(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise DlpathError(f"Cannot write {path}: {exc.strerror or exc}.") from None


def issue(where: Path, what: str, *, output: Path | None = None, name: str | None = None,
          write: bool = True) -> Issued:
    """Check the milestone (or run the challenge) on the committed project and
    issue a signed credential for it; nothing is written unless it passes."""
    from dlpath import achievements, challenge, rubric

    where = where.resolve()
    root = project.find_root(where) if where.is_dir() else None
    meta = project.load_meta(root) if root else None
    if root is None or meta is None:
        raise UsageError(f"'{where}' is not inside a project made by 'dlpath new'.",
                         hint="Run it in your project: dlpath credential MILESTONE PATH")
    template = templates.get(meta.template)
    warnings: list[str] = []
    if what == CHALLENGE:
        if template.challenge is None:
            raise UsageError(f"The '{meta.template}' template has no challenge on fresh data.",
                             hint="Earn a milestone credential instead: dlpath credential "
                                  "MILESTONE")
        result = challenge.run(root)
        warnings += result.warnings
        if not result.passed:
            failed = result.error or "; ".join(
                f"{s.label} {s.value if s.value is not None else s.note} (needs {s.op} "
                f"{s.threshold:g})" for s in result.scores if not s.passed)
            raise DlpathError(f"The challenge did not pass ({failed}): no credential.",
                              hint="Improve the model, dvc repro, commit, and try again.")
        commit = result.commit
        evidence = _evidence_base(root, meta, template, commit, CHALLENGE,
                                  _extra_files(template))
        evidence["challenge"] = {
            "shift": result.shift, "seed": result.seed, "at": result.at,
            "scores": [{"key": s.key, "label": s.label, "value": s.value, "test": s.test,
                        "op": s.op, "threshold": s.threshold} for s in result.scores]}
        evidence["name"] = (f"Challenge on fresh data of a {meta.template} project at commit "
                            f"{commit[:8]}")
        evidence["narrative"] = (f"dlpath drew fresh data ({result.shift}) with seed "
                                 f"{result.seed} and tested the model committed at {commit}.")
        achievement_id, title = f"{meta.template}/challenge", \
            f"{meta.template}: a model that holds on fresh data"
        criteria = (f"Pass dlpath's challenge for the '{meta.template}' template: "
                    + "; ".join(f"{s.label} {s.op} {s.threshold:g}" for s in result.scores)
                    + f" on freshly drawn data ({result.shift}).")
        label = CHALLENGE
    else:
        commit = challenge.require_clean(root, "a credential")
        the_rubric = rubric.load_for_project(root)
        wanted = the_rubric.milestone(what)  # unknown: exit 2
        milestone, report = evaluate_milestone(root, wanted.id)
        if report.tampered:
            raise DlpathError(f"Protected files were edited ({', '.join(report.tampered[:3])}): "
                              "no credential.", hint="Restore them from git.")
        if milestone.status != "pass":
            failed = next((c for c in milestone.checks if c.status != "pass"), None)
            why = f": {failed.id}: {failed.message}" if failed else ""
            raise DlpathError(f"Milestone '{wanted.id}' does not pass{why}",
                              hint=f"Run 'dlpath check -m {wanted.id}' and fix what it names.")
        evidence = _evidence_base(root, meta, template, commit, "milestone",
                                  _extra_files(template))
        evidence["report"] = report_evidence(milestone)
        evidence["assistance"] = assistance(root, wanted.id)
        evidence["name"] = (f"dlpath check of milestone '{wanted.id}' of a {meta.template} "
                            f"project at commit {commit[:8]}")
        evidence["narrative"] = (f"Every check of milestone '{wanted.id}' passed on the project "
                                 f"as committed at {commit}.")
        achievement_id, title = f"{meta.template}/{wanted.id}", wanted.title
        criteria = (f"Pass every check of milestone '{wanted.id}' ({wanted.title}) of dlpath's "
                    f"'{meta.template}' template, hidden checks included.")
        label = wanted.id
    key = keys.signing_key()
    did = keys.did_key(keys.public_bytes(key))
    issued = _now()
    unsigned = build(did=did, name=name or _subject_name(root), meta=meta, template=template,
                     achievement_id=achievement_id, title=title, criteria=criteria,
                     evidence=evidence, issued=issued)
    signed = proof.sign(unsigned, key, issued)
    path = (output.expanduser().resolve() if output else default_path(root, label, commit))
    if write:
        _write(path, signed, root)
        warnings += achievements.complete_step("credential")
    return Issued(path=path, credential=signed, did=did, what=label, commit=commit,
                  warnings=warnings)


# ----------------------------------------------------------------- reading


class CredentialError(DlpathError):
    """A file that is not a readable dlpath credential (exit 2)."""

    exit_code = ExitCode.USAGE


def read(path: Path) -> dict[str, Any]:
    """A credential file's JSON; CredentialError for an unreadable, corrupt or
    foreign file."""
    path = path.expanduser()
    try:
        if not path.is_file():
            raise CredentialError(f"{path}: no such file.")
        if path.stat().st_size > 5_000_000:
            raise CredentialError(f"{path}: too large to be a dlpath credential.")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialError(f"{path}: cannot read it ({exc.strerror or exc}).") from None
    except UnicodeDecodeError:
        raise CredentialError(f"{path}: not a credential (not UTF-8 text).") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CredentialError(f"{path}: corrupt credential (not valid JSON: {exc}).") from None
    foreign(data, path)
    return data


def foreign(data: Any, where: Any) -> None:
    """CredentialError unless ``data`` is shaped like a dlpath credential."""
    if not isinstance(data, dict):
        raise CredentialError(f"{where}: not a credential (a JSON object is expected).")
    types = data.get("type")
    if not isinstance(types, list) or "OpenBadgeCredential" not in types:
        raise CredentialError(f"{where}: not an Open Badges 3.0 credential.")
    found = evidence_of(data)
    if found is None:
        raise CredentialError(f"{where}: an Open Badges credential, but not one dlpath issued "
                              "(no dlpath evidence).")


def evidence_of(data: dict[str, Any]) -> dict[str, Any] | None:
    items = data.get("evidence")
    if not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, dict) and item.get("genre") == GENRE:
            return item
    return None
