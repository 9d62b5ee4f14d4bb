"""The progress store: format, migrations, corrupt files, newer files."""

from __future__ import annotations

import json

import pytest

from dlpath import progress
from dlpath.cli import app
from dlpath.errors import DlpathError


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPATH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_round_trip_in_the_current_format(home):
    prog = progress.load()
    assert prog.steps == {} and prog.loaded_version is None
    prog.steps["choose-a-path"] = {"done_at": progress.now(), "by": "learner"}
    prog.next_calls = 3
    progress.save(prog)
    raw = json.loads((home / "progress.json").read_text())
    assert raw["format_version"] == progress.FORMAT_VERSION == 4
    again = progress.load()
    assert again.is_done("choose-a-path") and again.next_calls == 3 and again.practice == {}
    assert again.challenges == {}
    assert not list(home.glob(".progress.json.*"))  # no temporary file left behind


def test_migrates_from_format_1_to_the_current_one(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"format_version": 1, "done": ["choose-a-path", "qa-community"],
                                "updated": "2026-01-01T00:00:00+00:00"}))
    loaded = progress.load(path)
    assert loaded.loaded_version == 1 and not loaded.warnings
    assert sorted(loaded.steps) == ["choose-a-path", "qa-community"]
    assert loaded.steps["choose-a-path"]["done_at"] == "2026-01-01T00:00:00+00:00"
    assert loaded.practice == {} and loaded.next_calls == 0
    progress.save(loaded, path)
    assert json.loads(path.read_text())["format_version"] == progress.FORMAT_VERSION


def test_migrates_from_format_2_keeping_the_counter(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"format_version": 2, "next_calls": 5,
                                "steps": {"leaderboards": {"done_at": "2026-02-02"}}}))
    loaded = progress.load(path)
    assert loaded.loaded_version == 2 and loaded.next_calls == 5
    assert loaded.is_done("leaderboards") and loaded.practice == {}


def test_each_migration_lifts_exactly_one_version():
    data = {"format_version": 1, "done": []}
    for version in sorted(progress.MIGRATIONS):
        assert data["format_version"] == version
        data = progress.MIGRATIONS[version](data)
        assert data["format_version"] == version + 1
    assert data["format_version"] == progress.FORMAT_VERSION


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"format_version": 0}',
                                     '{"format_version": 3, "steps": [], "practice": {}}',
                                     '{"format_version": 1, "done": "oops"}'])
def test_corrupt_progress_is_backed_up_and_reported_through_the_cli(home, runner, content):
    home.mkdir()
    (home / "progress.json").write_text(content)
    result = runner.invoke(app, ["next", "/", "--json"])
    assert result.exit_code == 0, result.output
    assert "could not be read" in result.stderr and "kept as" in result.stderr
    backups = list(home.glob("progress.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text() == content
    assert (json.loads((home / "progress.json").read_text())["format_version"]
            == progress.FORMAT_VERSION)


def test_two_corrupt_files_in_the_same_second_get_two_backups(home):
    home.mkdir()
    for text in ("{one", "{two"):
        (home / "progress.json").write_text(text)
        assert progress.load().warnings
    backups = sorted(p.read_text() for p in home.glob("progress.json.corrupt-*"))
    assert backups == ["{one", "{two"]


def test_a_newer_format_is_refused_and_left_untouched(home, runner):
    home.mkdir()
    newer = json.dumps({"format_version": 99, "steps": {}})
    (home / "progress.json").write_text(newer)
    with pytest.raises(DlpathError, match="newer than this dlpath"):
        progress.load()
    result = runner.invoke(app, ["done", "choose-a-path"])
    assert result.exit_code == 1 and "pip install -U dlpath" in result.stderr
    assert (home / "progress.json").read_text() == newer
    assert not list(home.glob("progress.json.corrupt-*"))
