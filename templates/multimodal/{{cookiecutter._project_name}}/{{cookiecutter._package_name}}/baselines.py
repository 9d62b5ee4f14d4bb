"""Stage `baselines`: two models that see only one modality each.

The image-only model never reads the question, the text-only model never
sees the image. How well they do tells you how much of the task one modality
answers on its own; ``models.decision_level`` combines their answers (stage
`evaluate`), and your fusion (stage `train`) has to beat that combination.
Each is trained with its own settings (params.yaml, ``baselines``): the
text-only model learns in a few epochs all that a question alone tells.

Runs on one process, or on several under torchrun (DistributedDataParallel):
``torchrun --nproc_per_node=2 -m {{ cookiecutter._package_name }}.baselines``.
"""

from __future__ import annotations

from .common import init_distributed, load_params, set_threads, shutdown_distributed, write_json
from .models import BASELINES
from .training import fresh_folder, summary, train_seeds

FOLDER = "models/baselines"


def main() -> None:
    params = load_params()
    set_threads(params)
    dist = init_distributed()
    fresh_folder(FOLDER, dist)
    for name, (model_class, inputs) in BASELINES.items():
        rows = train_seeds(name, model_class, inputs, params, params["baselines"][name], dist,
                           FOLDER)
        if dist.is_main:
            write_json(f"metrics/{name}.json", summary(rows, dist, []))
    shutdown_distributed(dist)


if __name__ == "__main__":
    main()
