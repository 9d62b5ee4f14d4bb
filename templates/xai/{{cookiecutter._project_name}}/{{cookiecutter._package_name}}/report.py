"""Stage `report`: report.md, the figures and the verdicts, as the numbers say.

report.md and the figures are small files that change with every run, so
they are kept in git (`cache: false` in dvc.yaml): a reviewer sees the
report, pictures included, on the repository's page, and `git diff` shows
how an experiment changed the explanations.

The verdicts are written from the numbers, whatever they are: where a method
fails a check, the report says so and what it means. It imports neither
torch nor captum (they take seconds to import): it reads what the stages
wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

#: the judgements the report applies (dlpath check measures for itself)
SIMILAR = 0.3          # sanity: similarity above this after randomisation = unchanged
MARGIN = 0.05          # faithfulness: deletion AUC margin over the best model-free control
INSERTION_MARGIN = 0.02  # ... and insertion AUC margin (insertion leaves less room on digits)
QUALITY_FLOOR = 0.93   # a model worth explaining: test accuracy
TITLES = {"integrated_gradients": "Integrated Gradients", "grad_cam": "Grad-CAM"}
MEASURES = {"spearman": "rank correlation (signed)", "spearman_abs": "rank correlation |.|",
            "ssim": "SSIM"}
MEANING = {
    "spearman": "the same pixels still speak for and against the class",
    "spearman_abs": "the same pixels still get the largest magnitudes: the map follows the "
                    "input (for Integrated Gradients with a black baseline, |attribution| is "
                    "close to |input x gradient|, and the input's ink dominates it)",
    "ssim": "the picture still looks the same",
}


def read(path: str) -> dict:
    p = Path(path)
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}


def methods_in(metrics: dict) -> list[tuple[str, str]]:
    """(key, title) of each method in a stage's metrics: yours, or Captum's."""
    found = []
    for method, title in TITLES.items():
        if method in metrics:
            found.append((method, title))
        elif f"captum_{method}" in metrics:
            found.append((f"captum_{method}", f"{title} (Captum's)"))
    return found


def passes(value: float, limit: float, below: bool = True) -> str:
    ok = value <= limit if below else value >= limit
    return "passes" if ok else "**FAILS**"


def model_section(train: dict, faith: dict) -> list[str]:
    acc = faith.get("model_accuracy")
    lines = ["## The model", ""]
    if acc is None:
        return lines + ["The faithfulness stage has not run yet.", ""]
    lines.append(f"Validation accuracy {train.get('val_acc', float('nan')):.1%}; test accuracy "
                 f"{acc:.1%} (floor {QUALITY_FLOOR:.0%}: {passes(acc, QUALITY_FLOOR, False)}).")
    if acc < QUALITY_FLOOR:
        lines.append("Below the floor, explanations mostly describe a model's mistakes: train "
                     "it properly before trusting what they say about digits.")
    return lines + [""]


def heatmap_section(explain: dict) -> list[str]:
    lines = ["## Heatmaps", "",
             "Top row: test images with their label (y) and the model's prediction (p). Below,",
             "one row per method, on one colour scale per method (see the colour bars): Integrated",
             "Gradients is signed (red for the class, blue against), Grad-CAM is positive only.",
             "", "![explanations](figures/explanations.png)", "",
             "### Misclassified test images", "",
             "Explained for the class the model (wrongly) chose: what did it see?", "",
             "![misclassified](figures/misclassified.png)", ""]
    rows = []
    for key, title in methods_in(explain):
        entry = explain[key]
        for name, text in (("captum_difference", "relative difference from Captum's"),
                           ("completeness_error", "completeness error (0 is exact)")):
            if name in entry:
                rows.append(f"| {title} | {text} | {entry[name]:.4f} |")
    if rows:
        lines += ["| method | measure | value |", "|---|---|---|", *rows, ""]
    return lines


def sanity_section(sanity: dict, shuffled: dict) -> list[str]:
    lines = ["## Sanity checks: do the explanations depend on the model?", "",
             "Adebayo et al. (2018): re-initialise the network's layers from the top "
             "(cascading randomisation), or train it on shuffled labels (data "
             f"randomisation), and compare the maps on {sanity.get('examples', '?')} test images. "
             f"A method passes when the similarity falls to {SIMILAR} or below.", ""]
    if shuffled:
        lines += [f"The shuffled-label model fits {shuffled['fit_acc']:.0%} of its "
                  f"{shuffled['examples']} training labels and scores {shuffled['test_acc']:.0%} "
                  "on the test split: it memorised, and learned nothing about digits.", ""]
    lines += ["| method | test | " + " | ".join(MEASURES.values()) + " |",
              "|---|---|" + "---|" * len(MEASURES)]
    findings = []
    tests = (("cascading", "every layer randomised"), ("data", "shuffled labels"))
    for key, title in methods_in(sanity):
        for test, name in tests:
            values = sanity[key][test]
            cells = [f"{values[m]:.2f} ({passes(values[m], SIMILAR)})" for m in MEASURES]
            lines.append(f"| {title} | {name} | " + " | ".join(cells) + " |")
        for m in MEASURES:
            failed = [f"{name}: {sanity[key][test][m]:.2f}" for test, name in tests
                      if sanity[key][test][m] > SIMILAR]
            if failed:
                findings.append(f"- **{title} fails on {MEASURES[m]}** ({'; '.join(failed)}): "
                                f"{MEANING[m]}, though the model behind it is destroyed.")
    lines.append("")
    if findings:
        lines += ["What this means:", "", *findings, "",
                  "A map that survives the destruction of the model cannot be evidence about "
                  "the model on that measure. Read such a method's maps on the measures it "
                  "passes only (for signed maps: which pixels speak for or against the class).",
                  ""]
    else:
        lines += ["Every method's maps change when the model is destroyed, on every measure.", ""]
    lines += ["![randomisation per layer](figures/randomisation.png)", "",
              "![maps under randomisation](figures/randomisation_maps.png)", "",
              "Per-layer values: `metrics/cascading.csv`, `metrics/independent.csv`.", ""]
    return lines


def faithfulness_section(faith: dict) -> list[str]:
    if not faith:
        return []
    lines = ["## Faithfulness: deletion and insertion against controls", "",
             f"Mean area under the curve of the predicted class's probability over "
             f"{faith['seeds']} draws of {faith['examples']} test images (deletion: lower is "
             "better; insertion: higher is better). The controls need no model (brightest "
             "pixels first; ink pixels in random order) or use a randomised one.", "",
             "| ranking | deletion AUC | insertion AUC |", "|---|---|---|"]
    for key, title in methods_in(faith):
        m = faith[key]
        lines.append(f"| {title} | {m['deletion']:.3f} | {m['insertion']:.3f} |")
        r = m["randomised_model"]
        lines.append(f"| {title} of a randomised model | {r['deletion']:.3f} | "
                     f"{r['insertion']:.3f} |")
    names = {"intensity": "control: brightest first (no model)",
             "random_ink": "control: random ink pixels (no model)",
             "random": "control: random pixels"}
    for name, title in names.items():
        c = faith["controls"][name]
        lines.append(f"| {title} | {c['deletion']:.3f} | {c['insertion']:.3f} |")
    lines += ["", f"Margins over the best model-free control on the worst of {faith['seeds']} "
                  f"seeds (faithful when at least {MARGIN} on deletion and "
                  f"{INSERTION_MARGIN} on insertion):", ""]
    for key, title in methods_in(faith):
        m = faith[key]
        ok = m["deletion_margin"] >= MARGIN and m["insertion_margin"] >= INSERTION_MARGIN
        lines.append(f"- {title}: deletion {m['deletion_margin']:+.3f}, insertion "
                     f"{m['insertion_margin']:+.3f}: {'passes' if ok else '**FAILS**'}"
                     + ("" if ok else ": this ranking does not clearly beat a guess that "
                                      "needs no model, so it tells you little about this model")
                     + f"; {m['randomised_model_margin']:+.3f} over the randomised model's.")
    lines += ["", "![faithfulness](figures/faithfulness.png)", "",
              "Curves: `metrics/deletion.csv`, `metrics/insertion.csv`; every seed: "
              "`metrics/faithfulness_seeds.csv`.", ""]
    return lines


def shortcut_section(short: dict) -> list[str]:
    if not short:
        return []
    lines = ["## The planted shortcut", "",
             "The `train_biased` model learned from the digits as collected, where each class "
             "carries a two-pixel scanner mark (markers.py). The marks hold "
             f"{short['ink_share']:.1%} of a marked digit's ink.", "",
             "| model | validation (as collected) | clean test | test with a wrong mark | "
             "share of IG on the marks |", "|---|---|---|---|---|"]
    for name, key in (("as collected", "biased"), ("shortcut removed", "fixed")):
        if key in short:
            m = short[key]
            share = f"{m['marker_share']:.1%}" if "marker_share" in m else "(write marker_share)"
            lines.append(f"| {name} | {m['val_acc']:.3f} | {m['clean_test_acc']:.3f} | "
                         f"{m['wrong_mark_test_acc']:.3f} | {share} |")
    lines.append("")
    if "clean_gain" in short:
        lines.append(f"Removing the shortcut changes clean-digit accuracy by "
                     f"{short['clean_gain']:+.3f} (95% confidence interval from "
                     f"{short['clean_gain_ci_low']:+.3f}).")
    else:
        lines.append("Write `remove_shortcut` in audit.py to retrain without the shortcut.")
    lines += ["", "![shortcut](figures/shortcut.png)", "",
              "![accuracy](figures/shortcut_accuracy.png)", ""]
    return lines


def render(metrics: dict) -> str:
    todo = []
    for m in metrics.values():
        todo += [t for t in m.get("not_implemented", []) if t not in todo]
    lines = ["# Explainability report", "",
             "Generated by `dvc repro` (stage `report`); do not edit by hand.", ""]
    if todo:
        lines += ["Until you write them, Captum's implementations stand in for yours "
                  "(marked \"Captum's\" below). Not implemented yet:", ""]
        lines += [f"- {t}" for t in todo] + [""]
    lines += model_section(metrics["train"], metrics["faithfulness"])
    lines += heatmap_section(metrics["explain"])
    lines += sanity_section(metrics["sanity"], metrics["train_shuffled"])
    lines += faithfulness_section(metrics["faithfulness"])
    lines += shortcut_section(metrics["shortcut"])
    return "\n".join(lines)


def main() -> None:
    names = ("train", "train_shuffled", "explain", "sanity", "faithfulness", "shortcut")
    text = render({name: read(f"metrics/{name}.json") for name in names})
    Path("report.md").write_text(text, encoding="utf-8")
    print("wrote report.md")


if __name__ == "__main__":
    main()
