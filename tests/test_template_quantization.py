"""The `quantization` template is a real assignment (shared/LEARNING.md):

* fresh: `dvc repro` runs end to end and shows the naive baseline (3-bit
  weights, per-tensor min-max: it loses at least 3 points), and every goal
  milestone fails, naming the file and the function to write;
* reference (the solution regions written over the learner files): every
  milestone of the template passes, hidden tests and dlpath's own
  measurements (the probe) included;
* shortcuts fail their milestone: PyTorch's quantizer kept instead of the
  learner's arithmetic, the library's naive int8 model deployed as the
  learner's, and pruning that zeroes weights but keeps every layer's size.

One fresh `dvc repro` and one reference `dvc repro` for the module; the
shortcuts that need a model are planted together in one clone of the
reference (each in a file or model the others do not touch), which re-runs
only the prune stage, cheaply, and is measured by one probe run. Latency is
judged by the probe (the lower quartile of many interleaved runs, ratios
within one process); the tests here check the *structure* of the latency
study, never a timing of their own: repro times are measured by
bench/bench_quantization.py --repro.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from dlpath import checker, rubric, solutions, templates
from tests.conftest import dvc, make_project, run
from tests.template_helpers import (
    PKG,
    assert_project_tests_and_ruff_pass,
    built,
    clone,
    read_metrics,
    replace_function,
    solve,
    untimed_failures,
)

TEMPLATE = "quantization"
GOALS = ("quantize-by-hand", "calibrated-ptq", "qat", "latency-study", "structured-pruning",
         "edge-ready")
# Where each goal milestone sends a fresh learner: a file and a function.
FRESH_MENTIONS = {
    "quantize-by-hand": ("quantize.py", "qparams()", "tests/test_quantize.py"),
    "calibrated-ptq": (f"{PKG}/quantize.py", "observe()"),
    "qat": (f"{PKG}/quantize.py", "fake_quantize()"),
    "latency-study": (f"{PKG}/quantize.py",),
    "structured-pruning": ("prune.py", "prune_structured()", "tests/test_prune.py"),
    "edge-ready": (f"{PKG}/quantize.py",),
}
# The figures for the default operating point.
MIN_NAIVE_DROP = 3.0  # points
MAX_INT8_DROP = 1.0
MAX_SIZE_RATIO = 0.35


# ------------------------------------------------------------- no pipeline


def test_renders_stages_params_readme_and_learner_files(tmp_path):
    root = make_project(TEMPLATE, tmp_path, git=False, dvc=False)
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    assert list(stages) == ["prepare", "train", "ptq", "qat", "prune", "export", "latency"]
    assert stages["export"]["outs"] == ["models/onnx"]
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert params["quantize"]["weight_bits"] == 3 and params["quantize"]["engine"] == "auto"
    assert params["latency"]["batch_sizes"][0] == 1 and len(params["prune"]["amounts"]) >= 3
    readme = (root / "README.md").read_text()
    for expected in ("Per-channel scales rescue 3-bit weights", "torch.ao", "torchao",
                     "external_data=False", "validation", "git checkout -- . && dvc checkout",
                     "interquartile range", f"torchrun --nproc_per_node=2 -m {PKG}.train"):
        assert expected in readme, expected
    assert "SEEDS_" not in readme and "{{" not in readme and "{%" not in readme
    deps = (root / "pyproject.toml").read_text()
    assert '"onnxruntime>=' in deps and '"onnx>=' in deps
    released = {lf.rel: lf for lf in solutions.learner_files(TEMPLATE, PKG)}
    assert set(released) == {f"{PKG}/quantize.py", f"{PKG}/qat.py", f"{PKG}/prune.py"}
    quantize = (root / PKG / "quantize.py").read_text()
    assert 'raise NotImplementedError("TODO: scale and zero point: write qparams() in ' in quantize
    assert "torch.round(" not in quantize  # no solution left in the learner's copy
    assert sorted(solve(root)) == sorted(released)  # the reference fills exactly those


def test_rubric_orders_the_ladder_and_rests_outcomes_on_probes():
    milestones = rubric.load_file(templates.get(TEMPLATE).rubric_path)
    assert [m.id for m in milestones] == list(GOALS)
    assert all(m.step == "edge-deployment" for m in milestones)
    by_id = {m.id: {c.id: c for c in m.checks} for m in milestones}
    # The outcomes are measured by dlpath, not read from the project's metrics.
    assert by_id["qat"]["int8-accuracy"].kind == "probe"
    assert by_id["qat"]["int8-accuracy"].args["value"] == MAX_INT8_DROP
    assert by_id["qat"]["int8-size"].args["value"] == MAX_SIZE_RATIO
    assert by_id["latency-study"]["batch-1"].args["key"] == "int8.latency_ratio_b1"
    assert by_id["structured-pruning"]["pruned-latency"].args["value"] <= 0.7
    assert by_id["structured-pruning"]["pruned-latency"].args["key"] == \
        "pruned.latency_ratio_b64"
    assert by_id["edge-ready"]["agreement"].args["value"] >= 0.99
    for m in milestones:
        assert all(c.hint for c in m.checks)
    hidden = [c for m in milestones for c in m.checks if not c.visible]
    assert {c.args.get("tests") for c in hidden if c.kind == "package_tests"} == {
        "hidden/test_quantize.py", "hidden/test_calibrate.py", "hidden/test_qat.py",
        "hidden/test_prune.py"}


# ---------------------------------------------------------------- pipeline


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    return built(TEMPLATE, "fresh", tmp_path_factory)


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> Path:
    """The reference solution over a clone of the fresh project: dvc repro
    re-runs the stages after train (prepare and train are the same). Built
    once a session: tests/test_check_templates.py shares it."""
    return built(TEMPLATE, "solved", tmp_path_factory)


def evaluate(root: Path):
    """One evaluation of the whole rubric (one probe run), as a learner runs it."""
    return checker.evaluate(root, record=False)


def checks_of(report, milestone: str) -> dict:
    return {c.id: c for c in report.all_checks if c.milestone == milestone}


@pytest.fixture(scope="module")
def fresh_report(fresh):
    return evaluate(fresh)


@pytest.fixture(scope="module")
def solved_report(solved):
    return evaluate(solved)


@pytest.mark.slow
def test_fresh_repro_shows_the_naive_baseline(fresh):
    root = fresh
    ptq = read_metrics(root, "ptq")
    assert ptq["naive"]["accuracy_drop"] >= MIN_NAIVE_DROP, ptq
    assert ptq["fp32"]["accuracy"] >= 0.95, ptq
    assert "ptq" not in ptq and f"{PKG}/quantize.py" in " ".join(ptq["not_implemented"])
    assert "int8" not in read_metrics(root, "qat")
    prune = read_metrics(root, "prune")
    # The library's unstructured pruning: half the weights zeroed, the same size.
    assert prune["unstructured"]["size_ratio"] >= 0.99 and "pruned" not in prune
    onnx = read_metrics(root, "onnx")
    assert onnx["fp32"]["agreement"] == 1.0 and onnx["int8_naive"]["agreement"] >= 0.99
    assert (root / "models" / "onnx" / "fp32.onnx").is_file()
    assert not list((root / "models" / "onnx").glob("*.data"))
    latency = read_metrics(root, "latency")
    assert {"fp32", "int8_naive", "onnx_fp32", "onnx_int8_naive"} <= set(latency)
    for png in ("bits", "qat_curves", "sparsity", "pareto", "train_curves"):
        assert (root / "plots" / f"{png}.png").read_bytes()[:4] == b"\x89PNG", png


@pytest.mark.slow
def test_fresh_goal_milestones_fail_naming_the_file_and_function(fresh_report):
    for milestone, mentions in FRESH_MENTIONS.items():
        failing = [c for c in checks_of(fresh_report, milestone).values()
                   if c.status in ("fail", "error")]
        assert failing, milestone
        told = "\n".join(f"{c.message}\n{c.hint}" for c in failing)
        for text in mentions:
            assert text in told, (milestone, text, told)
        assert "not implemented yet" in told or "tests/test_" in told, (milestone, told)


@pytest.mark.slow
def test_fresh_project_tests_and_ruff_pass(fresh):
    assert_project_tests_and_ruff_pass(fresh)


@pytest.mark.slow
def test_reference_passes_every_milestone_hidden_checks_included(solved_report):
    """Every check passes; the latency ones must show a measurement (whether
    a timed ratio clears its bar is bench/bench_quantization.py's to say)."""
    failing = [name for name in untimed_failures(solved_report, TEMPLATE)
               if name.split("/")[0] in GOALS]
    assert failing == []
    hidden = [c for c in solved_report.all_checks if c.milestone in GOALS and not c.visible]
    assert len(hidden) >= 6


@pytest.mark.slow
def test_reference_recovers_where_naive_ptq_fails(solved):
    root = solved
    ptq, qat = read_metrics(root, "ptq"), read_metrics(root, "qat")
    assert ptq["naive"]["accuracy_drop"] >= MIN_NAIVE_DROP
    # Per-tensor with the same calibration fails as naive does: it is the scales.
    assert ptq["ptq_per_tensor"]["accuracy_drop"] >= MIN_NAIVE_DROP
    assert ptq["ptq"]["accuracy_drop"] < ptq["naive"]["accuracy_drop"]
    assert set(ptq["calibration_val_accuracy"]) >= {"minmax_1", "percentile_8", "noise_minmax_8"}
    assert qat["int8"]["accuracy_drop"] <= MAX_INT8_DROP, qat
    assert qat["int8"]["size_ratio"] <= MAX_SIZE_RATIO and qat["int8"]["weight_levels"] <= 3
    bits = (root / "metrics" / "bits.csv").read_text().splitlines()
    assert bits[0] == "bits,fp32,yours,naive" and len(bits) == 7


@pytest.mark.slow
def test_reference_latency_study_has_its_structure(solved):
    """Batch 1 and 64, one thread and all, median and IQR, ratios to fp32
    in the same setting; the judged speed-ups are the probe's business."""
    root = solved
    latency = read_metrics(root, "latency")
    settings = latency["settings"]
    assert settings["batch_sizes"] == [1, 64] and settings["threads"][0] == 1
    variants = {"fp32", "int8_naive", "int8_ptq", "int8", "pruned", "onnx_fp32", "onnx_int8"}
    assert variants <= set(latency)
    for setting, runs in settings["runs"].items():
        assert runs >= 5, setting
        for name in variants:
            row = latency[name]
            assert row[f"{setting}_ms"] > 0 and row[f"{setting}_iqr_ms"] >= 0
        assert latency["fp32"][f"{setting}_ratio"] == 1.0
    assert latency["int8"]["size_ratio"] <= MAX_SIZE_RATIO
    pareto = (root / "metrics" / "pareto.csv").read_text().splitlines()
    assert pareto[0] == "variant,accuracy,size_bytes,latency_b1_ms"
    assert len(pareto) == 1 + len(variants) + 1  # and the naive int8 in ONNX Runtime
    prune = read_metrics(root, "prune")
    assert prune["curve_points"] >= 3 and prune["pruned"]["param_ratio"] < 0.5
    onnx = read_metrics(root, "onnx")
    assert onnx["int8"]["agreement"] >= 0.99 and onnx["size_ratio"] <= MAX_SIZE_RATIO


@pytest.mark.slow
def test_reference_project_tests_and_ruff_pass(solved):
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs"],
                 cwd=solved)
    assert " passed" in result.stdout and "failed" not in result.stdout
    assert "skipped" not in result.stdout  # every learner function is written
    run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=solved)


@pytest.mark.slow
def test_the_probe_draws_fresh_data_and_a_harder_challenge(solved):
    """Two seeds give different images; the challenge's shifted images cost
    the fp32 model accuracy, and the int8 model keeps up with it."""
    sys.path.insert(0, str(templates.get(TEMPLATE).path / "hidden"))
    try:
        import probe
    finally:
        sys.path.pop(0)
    root = solved
    x_train, x_test, y_test = probe._splits(yaml.safe_load((root / "params.yaml").read_text()))
    a, _ = probe.fresh_images(x_test, y_test, 1)
    b, _ = probe.fresh_images(x_test, y_test, 2)
    assert not a.equal(b) and a[: len(x_test)].equal(x_test)  # first copy: the image itself
    shifted, _ = probe.fresh_images(x_test, y_test, 1, challenge=True)
    assert (shifted - a).abs().mean() > (b - a).abs().mean()


# --------------------------------------------------------------- shortcuts


@pytest.mark.slow
def test_shortcut_pytorchs_quantizer_instead_of_the_arithmetic_fails(solved, tmp_path):
    root = clone(solved, tmp_path)
    replace_function(root, f"{PKG}/quantize.py", "quantize", '''
        def quantize(x, scale, zero_point, qmin, qmax, axis=None):
            dtype = torch.qint8 if qmin < 0 else torch.quint8
            if axis is None:
                q = torch.quantize_per_tensor(x, float(scale), int(zero_point), dtype)
            else:
                q = torch.quantize_per_channel(x, torch.as_tensor(scale).double(),
                                               torch.as_tensor(zero_point), axis, dtype)
            return q.int_repr().long().clamp(qmin, qmax)
    ''')
    report = checker.evaluate(root, milestone="quantize-by-hand", record=False)
    checks = checks_of(report, "quantize-by-hand")
    assert checks["visible-tests"].status == "pass"  # the examples pass...
    assert checks["hidden-tests"].status == "fail"   # ...the arithmetic is not the learner's


@pytest.fixture(scope="module")
def shortcuts(solved, tmp_path_factory):
    """Three shortcuts planted in one clone of the reference, each where the
    others do not reach: PyTorch's fake quantization in qat.py (judged by the
    hidden QAT tests), the library's naive int8 model saved as models/int8.pt
    (judged by the probe on int8.pt alone), and pruning that zeroes weights in
    prune.py (its stage re-run with one amount and one fine-tuning epoch:
    the shortcut's model, cheaply). One evaluation of the two milestones, one
    probe run. Returns (root, report)."""
    root = clone(solved, tmp_path_factory.mktemp("shortcuts"))
    replace_function(root, f"{PKG}/qat.py", "QAT.weight", '''
        def weight(self, name, w):
            qmax = 2 ** (self.weight_bits - 1) - 1
            scale = (w.detach().abs().flatten(1).amax(1) / qmax).clamp(min=1e-8)
            zero = torch.zeros(len(scale), dtype=torch.int32)
            return torch.fake_quantize_per_channel_affine(w, scale, zero, 0, -qmax, qmax)
    ''')
    shutil.copyfile(root / "models" / "int8_naive.pt", root / "models" / "int8.pt")
    replace_function(root, f"{PKG}/prune.py", "prune_structured", '''
        def prune_structured(model, amount):
            model = copy.deepcopy(model).cpu().eval()
            for layer in (model.pw, model.fc1):
                w = layer.weight.detach()
                cut = w.abs().flatten().kthvalue(max(1, int(amount * w.numel()))).values
                with torch.no_grad():
                    layer.weight[w.abs() <= cut] = 0
            return model
    ''')
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["prune"].update(amounts=[params["prune"]["amount"]], finetune_epochs=1, repeats=50)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run([sys.executable, "-m", f"{PKG}.prune"], cwd=root)
    report = checker.evaluate(root, milestone=["qat", "structured-pruning"], record=False)
    return root, report


@pytest.mark.slow
def test_shortcut_pytorchs_fake_quantization_in_qat_fails(shortcuts):
    _, report = shortcuts
    assert checks_of(report, "qat")["hidden-tests"].status == "fail"


@pytest.mark.slow
def test_shortcut_the_librarys_int8_model_deployed_as_yours_fails(shortcuts):
    """The library's naive quantizer kept: its model saved as models/int8.pt
    (the metrics file left as it was): dlpath measures the model, and sees
    both the accuracy lost and the stale report."""
    _, report = shortcuts
    check = checks_of(report, "qat")["int8-accuracy"]
    assert check.status == "fail"
    assert "stale or was edited" in check.message or "needs <= 1" in check.message


@pytest.mark.slow
def test_shortcut_pruning_that_zeroes_weights_fails(shortcuts):
    root, report = shortcuts
    prune = read_metrics(root, "prune")
    assert prune["pruned"]["size_ratio"] >= 0.99  # zeros take as much room as any number
    checks = checks_of(report, "structured-pruning")
    assert checks["pruned-size"].status == "fail"
    assert checks["pruned-latency"].status == "fail", checks["pruned-latency"].message
    assert checks["hidden-tests"].status == "fail"


@pytest.mark.slow
def test_reference_metrics_are_what_the_files_hold(solved):
    """The reported figures are the stages' own: a re-run of the deterministic
    stages (ptq) rewrites them unchanged and DVC sees nothing to redo."""
    root = solved
    before = (root / "metrics" / "ptq.json").read_bytes()
    run([sys.executable, "-m", f"{PKG}.ptq"], cwd=root)
    assert (root / "metrics" / "ptq.json").read_bytes() == before
    status = json.loads(dvc("status", "--json", cwd=root).stdout)
    assert "ptq" not in json.dumps(status)


@pytest.mark.slow
def test_dvc_shows_the_metrics_and_plots(solved, tmp_path):
    root = solved
    shown = json.dumps(json.loads(dvc("metrics", "show", "--json", cwd=root).stdout))
    for expected in ("metrics/ptq.json", "metrics/latency.json", "dvclive/train/metrics.json",
                     '"accuracy_drop"', '"b1_t1_iqr_ms"'):
        assert expected in shown, expected
    dvc("plots", "show", "-o", str(tmp_path / "plots"), cwd=root)
    html = (tmp_path / "plots" / "index.html").read_text()
    for expected in ("latency_b1_ms", "val_after_finetune", "naive", "yours"):
        assert expected in html, expected
