"""Credentials (dlpath credential / dlpath verify) on the fake template of
tests/beyond_fake.py: they round-trip through verify, with and without the
project; each tampering (signature, metrics hash, commit, evidence), a wrong
key, a missing commit, metrics that no longer match and a forged claim
re-signed with the learner's own key are caught with one line and exit 1; bad
input is refused with nothing written; the key stays private; and a third
party can check the proof with the recipe in docs/credentials.md alone."""

from __future__ import annotations

import copy
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dlpath import credentials, keys, progress, proof
from dlpath.cli import app
from tests import beyond_fake

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPATH_HOME", str(tmp_path / "home"))
    return beyond_fake.install(tmp_path, monkeypatch)


@pytest.fixture
def issued(fake, tmp_path, runner):
    """A solved project and its credential for milestone 'goal'."""
    root = beyond_fake.project(tmp_path)
    out = tmp_path / "cred.json"
    result = runner.invoke(app, ["credential", "goal", str(root), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return root, out


def _one_line_failure(result, *fragments):
    assert result.exit_code == 1, result.output
    text = result.stderr.strip()
    assert text.startswith("Error: Not verified: ") or "Not verified: " in text, text
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in text, text


def _write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data, indent=2))
    return path


def test_a_credential_round_trips_through_verify(issued, tmp_path, runner):
    root, out = issued
    data = json.loads(out.read_text())
    assert data["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert data["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert data["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    did = data["issuer"]["id"]
    assert did.startswith("did:key:z6Mk") and data["credentialSubject"]["id"] == did
    assert data["credentialSubject"]["name"] == "Test Learner"
    assert data["credentialSubject"]["achievement"]["achievementType"] == "MicroCredential"
    ev = credentials.evidence_of(data)
    head = beyond_fake.git(root, "rev-parse", "HEAD").strip()
    assert ev["commit"] == head and ev["template"] == "fake" and ev["templateVersion"] == "1.2"
    assert set(ev["files"]) == {"metrics/m.json"}  # no DVC here: no dvc.lock
    assert ev["metrics"] == {"metrics/m.json": {"accuracy": 1.0, "size": 18}}
    assert ev["report"]["milestone"] == "goal" and ev["report"]["status"] == "pass"
    hidden = [c for c in ev["report"]["checks"] if c["visibility"] == "hidden"]
    assert hidden and hidden[0]["message"] == "hidden check passed"  # no threshold leaks
    assert ev["assistance"] == {"hints": 0, "solutions": 0, "solutionBeforePassing": False}
    assert beyond_fake.git(root, "status", "--porcelain") == ""  # nothing in the project

    plain = runner.invoke(app, ["verify", str(out)])
    assert plain.exit_code == 0, plain.output
    assert "✓ Verified: A good model (fake, commit " in plain.stdout
    assert "add --project PATH" in plain.stdout
    full = runner.invoke(app, ["verify", str(out), "--project", str(root), "--json"])
    assert full.exit_code == 0, full.output
    report = json.loads(full.stdout)
    assert report["verified"] is True and report["signer"] == did
    confirmed = "\n".join(report["confirmed"])
    assert f"commit {head[:8]} is in" in confirmed
    assert "1 file hash(es) match" in confirmed
    assert "milestone 'goal' passes again on a clean checkout" in confirmed
    assert progress.load().steps["micro-credentials"]["by"] == "credential"
    assert not list(root.parent.glob("dlpath-verify-*"))
    assert beyond_fake.git(root, "worktree", "list").count("\n") == 1  # no worktree left


def test_the_key_is_private_made_once_and_never_printed(issued, tmp_path, runner):
    root, out = issued
    path = keys.key_path()
    assert path.is_file() and not str(path).startswith(str(root))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text()
    first = path.read_bytes()
    again = runner.invoke(app, ["credential", "goal", str(root), "-o",
                                str(tmp_path / "again.json"), "--json"])
    assert again.exit_code == 0 and path.read_bytes() == first  # same key reused
    shown = runner.invoke(app, ["credential", "--show-key"])
    assert shown.stdout.strip() == json.loads(out.read_text())["issuer"]["id"]
    body = secret.split("-----")[2].strip()
    for text in (again.output, shown.output, out.read_text()):
        assert body not in text and "PRIVATE KEY" not in text


@pytest.mark.parametrize("tamper, fragment", [
    (lambda d: d["proof"].update(proofValue=d["proof"]["proofValue"][:-3] + (
        "abc" if not d["proof"]["proofValue"].endswith("abc") else "abd")),
     "the signature does not match its content"),
    (lambda d: credentials.evidence_of(d)["files"].update(
        {"metrics/m.json": "sha256:" + "0" * 64}), "the signature does not match its content"),
    (lambda d: credentials.evidence_of(d).update(commit="0" * 40),
     "the signature does not match its content"),
    (lambda d: credentials.evidence_of(d)["assistance"].update(hints=0, solutions=0)
     or credentials.evidence_of(d)["report"].update(score=99),
     "the signature does not match its content"),
    (lambda d: d["credentialSubject"].update(name="Someone Else"),
     "the signature does not match its content"),
    (lambda d: d.pop("proof"), "it has no proof"),
    (lambda d: d["proof"].update(cryptosuite="eddsa-rdfc-2022"),
     "its proof is not a DataIntegrityProof with cryptosuite eddsa-jcs-2022"),
])
def test_each_tampering_is_caught_with_one_line(issued, tmp_path, runner, tamper, fragment):
    root, out = issued
    data = json.loads(out.read_text())
    tamper(data)
    forged = _write(tmp_path / "forged.json", data)
    _one_line_failure(runner.invoke(app, ["verify", str(forged)]), fragment)
    _one_line_failure(runner.invoke(app, ["verify", str(forged), "--project", str(root)]),
                      fragment)


def _resign(data: dict, key) -> dict:
    """A credential re-signed with ``key`` after an edit (issuer set to it)."""
    did = keys.did_key(keys.public_bytes(key))
    data = copy.deepcopy(data)
    data["issuer"]["id"] = data["credentialSubject"]["id"] = did
    return proof.sign(data, key, data["validFrom"])


def test_a_wrong_key_and_a_key_that_is_not_the_issuers_are_caught(issued, tmp_path, runner):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    root, out = issued
    data = json.loads(out.read_text())
    mine = data["issuer"]["id"]
    other = keys.did_key(keys.public_bytes(Ed25519PrivateKey.generate()))
    assert runner.invoke(app, ["verify", str(out), "--key", mine]).exit_code == 0
    _one_line_failure(runner.invoke(app, ["verify", str(out), "--key", other]),
                      f"not by the expected key {other} (wrong key)")
    # someone else's key, with the learner still named as issuer
    stranger = Ed25519PrivateKey.generate()
    resigned = _resign(data, stranger)
    resigned["issuer"]["id"] = mine
    resigned = proof.sign({k: v for k, v in resigned.items() if k != "proof"}, stranger,
                          resigned["validFrom"])
    _one_line_failure(runner.invoke(app, ["verify", str(_write(tmp_path / "s.json",
                                                                resigned))]),
                      "not by its issuer")
    bad = runner.invoke(app, ["verify", str(out), "--key", "did:web:example.com"])
    assert bad.exit_code == 2 and "not an Ed25519 did:key" in bad.stderr


def test_a_missing_commit_and_another_project_are_caught(issued, tmp_path, runner):
    root, out = issued
    # another project (its own params: made in the same second with the same files,
    # git would give it the very same commit)
    other = beyond_fake.project(tmp_path, name="other-proj", threshold=0.45)
    _one_line_failure(runner.invoke(app, ["verify", str(out), "--project", str(other)]),
                      "is not in", "another project, or history rewritten")
    # the same project with its history rewritten: the commit is gone
    head = beyond_fake.git(root, "rev-parse", "HEAD").strip()
    beyond_fake.git(root, "commit", "-q", "--amend", "-m", "rewritten")
    beyond_fake.git(root, "reflog", "expire", "--expire=now", "--all")
    beyond_fake.git(root, "gc", "-q", "--prune=now")
    _one_line_failure(runner.invoke(app, ["verify", str(out), "--project", str(root)]),
                      f"commit {head[:8]} is not in")


def test_metrics_that_no_longer_match_are_caught_even_when_re_signed(issued, tmp_path,
                                                                     runner):
    root, out = issued
    data = json.loads(out.read_text())
    key = keys.signing_key()  # the learner forging their own credential
    edited = copy.deepcopy(data)
    credentials.evidence_of(edited)["files"]["metrics/m.json"] = "sha256:" + "1" * 64
    forged = _write(tmp_path / "f1.json", _resign(edited, key))
    assert runner.invoke(app, ["verify", str(forged)]).exit_code == 0  # the signature holds
    _one_line_failure(runner.invoke(app, ["verify", str(forged), "--project", str(root)]),
                      "metrics/m.json at commit", "does not match the credential's hash")
    edited = copy.deepcopy(data)
    credentials.evidence_of(edited)["metrics"]["metrics/m.json"]["accuracy"] = 0.99
    forged = _write(tmp_path / "f2.json", _resign(edited, key))
    _one_line_failure(runner.invoke(app, ["verify", str(forged), "--project", str(root)]),
                      "the metrics in its evidence differ from those committed")


def test_a_claim_for_a_commit_whose_milestone_fails_is_caught(issued, tmp_path, runner):
    root, out = issued
    # the same project, later: a worse model
    (root / "params.yaml").write_text("threshold: 0.8\nmemorise: false\n")
    subprocess.run([sys.executable, "train.py"], cwd=root, check=True)
    beyond_fake.git(root, "commit", "-qam", "worse")
    failing = runner.invoke(app, ["credential", "goal", str(root), "-o",
                                  str(tmp_path / "no.json")])
    assert failing.exit_code == 1 and "Milestone 'goal' does not pass: acc:" in failing.stderr
    assert not (tmp_path / "no.json").exists()
    # forge it: the passing credential moved to the failing commit, re-signed
    head = beyond_fake.git(root, "rev-parse", "HEAD").strip()
    data = json.loads(out.read_text())
    ev = credentials.evidence_of(data)
    ev["commit"] = head
    ev["files"] = credentials.file_hashes(root, head, ["metrics/m.json"])
    ev["metrics"] = credentials.metric_values(root, head, ["metrics/m.json"])
    forged = _write(tmp_path / "f.json", _resign(data, keys.signing_key()))
    _one_line_failure(runner.invoke(app, ["verify", str(forged), "--project", str(root)]),
                      f"milestone 'goal' does not pass when re-checked at commit {head[:8]}",
                      "(acc: dlpath measured acc = 0.")


@pytest.mark.parametrize("content, code, fragment", [
    ("{not json", 2, "corrupt credential (not valid JSON"),
    ("[1, 2]", 2, "not a credential (a JSON object is expected)"),
    ('{"type": ["VerifiableCredential"]}', 2, "not an Open Badges 3.0 credential"),
    ('{"type": ["VerifiableCredential", "OpenBadgeCredential"], "evidence": []}', 2,
     "not one dlpath issued"),
])
def test_corrupt_and_foreign_files_are_bad_input(fake, tmp_path, runner, content, code,
                                                 fragment):
    path = tmp_path / "c.json"
    path.write_text(content)
    result = runner.invoke(app, ["verify", str(path)])
    assert result.exit_code == code and fragment in result.stderr
    assert "Traceback" not in result.output
    missing = runner.invoke(app, ["verify", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_bad_input_to_credential_writes_nothing(fake, tmp_path, runner):
    root = beyond_fake.project(tmp_path)
    home = Path(os.environ["DLPATH_HOME"])
    cases = [
        (["credential", "nope", str(root)], 2, "No milestone 'nope'"),
        (["credential"], 2, "Name what the credential is for"),
        (["credential", "goal", str(tmp_path)], 2, "is not inside a project made by"),
        (["credential", "goal", str(root), "-o", str(root / "c.json")], 2,
         "is inside the project"),
    ]
    for args, code, fragment in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == code, (args, result.output)
        assert fragment in result.stderr, (args, result.stderr)
    (tmp_path / "exists.json").write_text("mine")
    result = runner.invoke(app, ["credential", "goal", str(root), "-o",
                                 str(tmp_path / "exists.json")])
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert (tmp_path / "exists.json").read_text() == "mine"
    (root / "NOTES.md").write_text("changed\n")
    result = runner.invoke(app, ["credential", "goal", str(root)])
    assert result.exit_code == 1 and "uncommitted changes (NOTES.md)" in result.stderr
    assert not (home / "credentials").exists()
    assert beyond_fake.git(root, "status", "--porcelain").strip() == "M NOTES.md"


def test_default_location_is_the_per_user_folder_and_never_overwrites(fake, tmp_path, runner):
    root = beyond_fake.project(tmp_path)
    for _ in range(2):
        assert runner.invoke(app, ["credential", "goal", str(root)]).exit_code == 0
    made = sorted((Path(os.environ["DLPATH_HOME"]) / "credentials").glob("*.json"))
    head = beyond_fake.git(root, "rev-parse", "HEAD").strip()[:8]
    assert [p.name for p in made] == [f"proj-goal-{head}-2.json", f"proj-goal-{head}.json"]


def test_a_challenge_credential_is_issued_only_for_a_pass_and_re_run_by_verify(fake, tmp_path,
                                                                            runner):
    root = beyond_fake.project(tmp_path)
    out = tmp_path / "ch.json"
    result = runner.invoke(app, ["credential", "challenge", str(root), "-o", str(out)])
    assert result.exit_code == 0, result.output
    ev = credentials.evidence_of(json.loads(out.read_text()))
    assert ev["kind"] == "challenge" and ev["challenge"]["scores"][0]["value"] >= 0.99
    assert isinstance(ev["challenge"]["seed"], int)
    full = runner.invoke(app, ["verify", str(out), "--project", str(root)])
    assert full.exit_code == 0, full.output
    assert re.search(r"passes the challenge again on data drawn now \(seed \d+: accuracy 1",
                     full.stdout)
    memorised = beyond_fake.project(tmp_path, memorise=True, name="mem")
    result = runner.invoke(app, ["credential", "challenge", str(memorised), "-o",
                                 str(tmp_path / "m.json")])
    assert result.exit_code == 1 and "The challenge did not pass (accuracy 0." in result.stderr
    assert not (tmp_path / "m.json").exists()


def _docs_recipe() -> str:
    text = (ROOT / "docs" / "credentials.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    recipe = [b for b in blocks if "def verify_credential" in b]
    assert recipe, "docs/credentials.md lost its verification recipe"
    return recipe[0]


def test_a_third_party_verifies_with_the_documented_recipe_alone(issued, tmp_path):
    root, out = issued
    script = tmp_path / "third_party.py"
    script.write_text(_docs_recipe() + "\nimport sys\nprint(verify_credential(sys.argv[1]))\n")
    good = subprocess.run([sys.executable, "-I", str(script), str(out)], capture_output=True,
                          text=True)
    assert good.returncode == 0 and good.stdout.strip().startswith("did:key:z6Mk"), good.stderr
    data = json.loads(out.read_text())
    credentials.evidence_of(data)["commit"] = "0" * 40
    forged = _write(tmp_path / "forged.json", data)
    bad = subprocess.run([sys.executable, "-I", str(script), str(forged)], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "InvalidSignature" in bad.stderr


def test_a_damaged_key_is_reported_and_left_as_it_is(fake, tmp_path, runner):
    root = beyond_fake.project(tmp_path)
    path = keys.key_path()
    path.parent.mkdir(parents=True)
    path.write_text("not a key")
    result = runner.invoke(app, ["credential", "goal", str(root), "-o", str(tmp_path / "c.json")])
    assert result.exit_code == 1 and "is damaged or not an Ed25519 key" in result.stderr
    assert path.read_text() == "not a key" and not (tmp_path / "c.json").exists()
