"""The contract every template keeps (shared/LEARNING.md), checked on rendered
projects without running a pipeline: solution regions release into stubs
that name the function, file and test; learner files hold no Jinja; and
every DVC stage lists every project module its command imports."""

from __future__ import annotations

import ast

import pytest

from dlpath import solutions, templates
from tests.conftest import make_project
from tests.template_helpers import stage_import_gaps

TEMPLATES = sorted(templates.available())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    made = {}
    for name in TEMPLATES:
        made[name] = make_project(name, tmp_path_factory.mktemp(name), git=False, dvc=False)
    return made


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_stage_lists_the_modules_it_imports(rendered, template):
    assert stage_import_gaps(rendered[template]) == {}


@pytest.mark.parametrize("template", TEMPLATES)
def test_learner_files_release_into_stubs_and_reference(rendered, template):
    root = rendered[template]
    for lf in solutions.learner_files(template, "proj"):
        text = lf.source.read_text(encoding="utf-8")
        assert "{{" not in text and "{%" not in text, f"{lf.source}: Jinja in a learner file"
        released = (root / lf.rel).read_text(encoding="utf-8")
        assert released == lf.released()
        assert solutions.MARKER not in released and "### END SOLUTION" not in released
        ast.parse(released, filename=lf.rel)
        ast.parse(lf.reference(), filename=str(lf.source))
        for region in lf.regions():
            if region.stub is None:
                assert f"NotImplementedError(\"TODO: {region.todo}" in released
                if region.function:
                    assert f"{region.function}() in {lf.rel}" in released


@pytest.mark.parametrize("template", TEMPLATES)
def test_no_rendered_file_keeps_a_solution_marker(rendered, template):
    root = rendered[template]
    leftovers = [p.relative_to(root).as_posix() for p in root.rglob("*")
                 if p.is_file() and p.suffix in {".py", ".md", ".yaml"}
                 and solutions.MARKER in p.read_text(encoding="utf-8", errors="replace")]
    assert leftovers == []
