"""``dlpath verify FILE [--project PATH] [--key DID]``: check a credential
(dlpath.credentials) and, given the project, that its evidence holds.

Without the project it proves that the file is exactly what the holder of
the issuer's key signed (eddsa-jcs-2022 over every byte of the JSON), and,
with ``--key``, that this holder is the learner one expects. With the
project it also proves that the commit is in that project's history, that
the metrics files and ``dvc.lock`` at that commit hash to what the
credential says, and that the milestone passes (or the challenge passes on
freshly drawn data) when dlpath re-runs it on a clean checkout of that
commit. Every failure is one line (exit 1); an unreadable or foreign file
is bad input (exit 2). Nothing here prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlpath import credentials, keys, proof
from dlpath.errors import DlpathError, ExitCode, UsageError

_SHA = re.compile(r"^[0-9a-f]{40}$")


class NotVerified(DlpathError):
    """The credential does not verify: the one-line reason (exit 1)."""

    exit_code = ExitCode.FAILURE


@dataclass
class Verification:
    path: Path
    signer: str
    kind: str  # milestone | challenge
    achievement: str
    template: str
    commit: str
    issued: str
    subject: str
    #: what was confirmed, one line each
    confirmed: list[str] = field(default_factory=list)
    project: Path | None = None
    credential: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"format_version": 1, "verified": True, "file": str(self.path),
                "signer": self.signer, "subject": self.subject, "kind": self.kind,
                "achievement": self.achievement, "template": self.template,
                "commit": self.commit, "issued": self.issued,
                "project": str(self.project) if self.project else None,
                "confirmed": self.confirmed}


def _fail(path: Any, reason: str) -> NotVerified:
    return NotVerified(f"Not verified: {path}: {reason}")


def _evidence(data: dict[str, Any], path: Any) -> dict[str, Any]:
    ev = credentials.evidence_of(data) or {}
    commit, files, kind = ev.get("commit"), ev.get("files"), ev.get("kind")
    if not isinstance(commit, str) or not _SHA.match(commit):
        raise _fail(path, "its evidence names no commit")
    if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.startswith("sha256:")
            for k, v in files.items()):
        raise _fail(path, "its evidence's file hashes are malformed")
    if kind not in ("milestone", credentials.CHALLENGE):
        raise _fail(path, f"its evidence is of an unknown kind {kind!r}")
    if not isinstance(ev.get("template"), str):
        raise _fail(path, "its evidence names no template")
    return ev


def check_signature(data: dict[str, Any], path: Any, key: str | None = None) -> Verification:
    """The proof, the issuer and (with ``key``) the expected signer."""
    try:
        verified = proof.verify(data)
    except proof.ProofError as exc:
        raise _fail(path, str(exc)) from None
    issuer = data.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != verified.signer:
        raise _fail(path, f"it was signed by {verified.signer}, not by its issuer {issuer_id}")
    if key is not None:
        try:
            expected = keys.did_key(keys.public_from_did(key.strip()))
        except ValueError as exc:
            raise UsageError(f"--key {key}: not an Ed25519 did:key ({exc}).",
                             hint="The learner's key is printed by: dlpath credential "
                                  "--show-key") from None
        if verified.signer != expected:
            raise _fail(path, f"it was signed by {verified.signer}, not by the expected key "
                              f"{expected} (wrong key)")
    ev = _evidence(data, path)
    subject = data.get("credentialSubject") or {}
    achievement = (subject.get("achievement") or {}) if isinstance(subject, dict) else {}
    return Verification(
        path=Path(str(path)), signer=verified.signer, kind=ev["kind"],
        achievement=str(achievement.get("name", "")), template=ev["template"],
        commit=ev["commit"], issued=str(data.get("validFrom", verified.created)),
        subject=str(subject.get("name", "")) if isinstance(subject, dict) else "",
        confirmed=[f"signature valid (eddsa-jcs-2022, {verified.signer})"], credential=data)


# ----------------------------------------------------------------- the project


@contextmanager
def checkout(root: Path, commit: str) -> Iterator[Path]:
    """A clean checkout of ``commit`` with its DVC outputs, outside the
    project: grader mode's (dlpath.grader) where this dlpath has it, else a
    temporary git worktree whose DVC outputs come from the project's cache."""
    try:
        from dlpath import grader
    except ImportError:
        grader = None
    if grader is not None:
        with grader.checkout(root, commit) as co:
            yield co.path
        return
    import shutil
    import tempfile

    from dlpath import vcs

    scratch = Path(tempfile.mkdtemp(prefix="dlpath-verify-"))
    path = scratch / root.name
    try:
        vcs.git_output(root, "worktree", "add", "--quiet", "--detach", str(path), commit)
        if (path / ".dvc").is_dir() and (root / ".dvc" / "cache").is_dir():
            (path / ".dvc" / "config.local").write_text(
                f"[cache]\n    dir = {root / '.dvc' / 'cache'}\n", encoding="utf-8")
            from dvc.repo import Repo

            vcs._quiet_dvc()
            with vcs.in_dir(path):
                repo = Repo(str(path))
                try:
                    repo.checkout(force=True)
                except Exception:  # noqa: S110 - outputs missing: the checks will say so
                    pass
                finally:
                    repo.close()
        yield path
    finally:
        try:
            vcs.git_output(root, "worktree", "remove", "--force", str(path))
        except DlpathError:
            pass
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            vcs.git_output(root, "worktree", "prune")
        except DlpathError:
            pass


def grade(root: Path, commit: str, milestone: str):
    """The milestone's report on a clean checkout of ``commit``: grader mode
    (no cache, the pipeline re-run, numbers dlpath computes itself) where this
    dlpath has it."""
    try:
        from dlpath import grader
    except ImportError:
        grader = None
    if grader is not None:
        report = grader.evaluate_commit(root, commit, milestone=milestone)
        return report.milestones[0]
    from dlpath import checker

    with checkout(root, commit) as path:
        return checker.evaluate(path, milestone=milestone, record=False).milestones[0]


def check_project(v: Verification, where: Path) -> None:
    """Confirm the evidence against the project at ``where`` (NotVerified if not)."""
    from dlpath import project, vcs

    ev = credentials.evidence_of(v.credential) or {}
    root = project.find_root(where.resolve()) if where.exists() else None
    if root is None:
        raise UsageError(f"--project {where}: not a project made by 'dlpath new'.")
    if not vcs.is_git_root(root):
        raise _fail(v.path, f"{root} is not a git repository, so commit {v.commit[:8]} "
                            "cannot be in it")
    meta = project.load_meta(root)
    if meta is not None and meta.template != v.template:
        raise _fail(v.path, f"it is for a '{v.template}' project; {root} is a "
                            f"'{meta.template}' project")
    try:
        vcs.git_output(root, "cat-file", "-e", f"{v.commit}^{{commit}}")
    except DlpathError:
        raise _fail(v.path, f"commit {v.commit[:8]} is not in {root} (another project, or "
                            "history rewritten since)") from None
    first = (ev.get("project") or {}).get("firstCommit") if isinstance(
        ev.get("project"), dict) else None
    if first and first != credentials.first_commit(root):
        raise _fail(v.path, f"it is for another project (first commit {str(first)[:8]})")
    v.project = root
    v.confirmed.append(f"commit {v.commit[:8]} is in {root}")
    files = ev["files"]
    now = credentials.file_hashes(root, v.commit, [f for f in files if f != "dvc.lock"])
    for rel, digest in sorted(files.items()):
        if rel not in now:
            raise _fail(v.path, f"{rel} is not in commit {v.commit[:8]}")
        if now[rel] != digest:
            raise _fail(v.path, f"{rel} at commit {v.commit[:8]} does not match the "
                                "credential's hash (the metrics no longer match)")
    values = credentials.metric_values(root, v.commit, [f for f in files if f != "dvc.lock"])
    if isinstance(ev.get("metrics"), dict) and ev["metrics"] != values:
        raise _fail(v.path, f"the metrics in its evidence differ from those committed at "
                            f"{v.commit[:8]}")
    v.confirmed.append(f"{len(files)} file hash(es) match commit {v.commit[:8]} "
                       f"({', '.join(sorted(files))})")
    if v.kind == credentials.CHALLENGE:
        _rerun_challenge(v, root)
    else:
        _rerun_milestone(v, root, ev)


def _rerun_milestone(v: Verification, root: Path, ev: dict[str, Any]) -> None:
    report = ev.get("report") if isinstance(ev.get("report"), dict) else {}
    milestone = report.get("milestone")
    if not isinstance(milestone, str):
        raise _fail(v.path, "its evidence names no milestone")
    try:
        result = grade(root, v.commit, milestone)
    except DlpathError as exc:
        raise _fail(v.path, f"milestone '{milestone}' cannot be re-checked at commit "
                            f"{v.commit[:8]}: {exc.message}") from None
    if result.status != "pass":
        failed = next((c for c in result.checks if c.status != "pass"), None)
        why = f" ({failed.id}: {failed.message})" if failed else ""
        raise _fail(v.path, f"milestone '{milestone}' does not pass when re-checked at commit "
                            f"{v.commit[:8]}{why}")
    v.confirmed.append(f"milestone '{milestone}' passes again on a clean checkout of "
                       f"{v.commit[:8]} ({result.score}/{result.max_score})")


def _rerun_challenge(v: Verification, root: Path) -> None:
    from dlpath import challenge

    with checkout(root, v.commit) as path:
        try:
            t = challenge.target(path)
        except DlpathError as exc:
            raise _fail(v.path, exc.message) from None
        m = challenge.measure(t)
        scores, error = challenge.judge(t, m)
    if error is not None or not all(s.passed for s in scores):
        why = error or "; ".join(f"{s.label} {s.value if s.value is not None else s.note} "
                                 f"(needs {s.op} {s.threshold:g})" for s in scores
                                 if not s.passed)
        raise _fail(v.path, f"the model at commit {v.commit[:8]} fails the challenge on data "
                            f"drawn now (seed {m.seed}): {why}")
    shown = ", ".join(f"{s.label} {s.value:.4g}" for s in scores)
    v.confirmed.append(f"the model at {v.commit[:8]} passes the challenge again on data drawn "
                       f"now (seed {m.seed}: {shown})")


def verify(path: Path, *, project: Path | None = None, key: str | None = None) -> Verification:
    data = credentials.read(path)
    v = check_signature(data, path, key)
    if project is not None:
        check_project(v, project)
    return v
