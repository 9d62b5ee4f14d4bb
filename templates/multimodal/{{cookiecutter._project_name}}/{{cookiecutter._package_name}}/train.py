"""Stage `train`: your fusion (``fusion.BindingFusion``), which reads the
image and the question, trained once per seed.

Runs on one process, or on several under torchrun (DistributedDataParallel):
``torchrun --nproc_per_node=2 -m {{ cookiecutter._package_name }}.train``.
``train.batch_size`` is per process (N processes: N times the batch), DDP
averages the gradients, and every process validates on the whole validation
split, so all keep the same epoch; only the first process writes files.
"""

from __future__ import annotations

from .common import (
    init_distributed,
    learner_code,
    load_params,
    set_threads,
    shutdown_distributed,
    write_json,
)
from .fusion import BindingFusion
from .training import fresh_folder, placeholder_record, summary, train_seeds

FOLDER = "models/fused"


def main() -> None:
    params = load_params()
    set_threads(params)
    dist = init_distributed()
    fresh_folder(FOLDER, dist)
    todo: list[str] = []
    rows: list[dict] = []
    with learner_code(todo):
        rows = train_seeds("fused", BindingFusion, ("x", "questions"), params, params["train"],
                           dist, FOLDER)
    if dist.is_main:
        if todo:
            placeholder_record("fused_seed0", todo)
        write_json("metrics/train.json", summary(rows, dist, todo))
        for row in rows:
            print(f"fused seed {row['seed']}: val accuracy {row['val_acc']:.3f} "
                  f"(epoch {row['best_epoch']})")
    shutdown_distributed(dist)


if __name__ == "__main__":
    main()
