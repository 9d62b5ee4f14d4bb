"""The process in which dlpath runs a template's probe (see dlpath.checks.probe).

dlpath starts it as a script with ``python -I -S -B -X pycache_prefix=<empty
temp dir>``: no PYTHON* variables, no user site, no ``site`` start-up (so no
``sitecustomize``/``usercustomize`` and no ``.pth`` file from the project,
even one an editable install put in site-packages), no bytecode read from or
written to the project (``__pycache__`` is looked up in the empty folder, and
sourceless ``.pyc`` files in the project are not importable). Then it adds
dlpath's own site-packages folders, the probe's folder first and the project
root last on ``sys.path`` (so a project file named like a library never
shadows it), runs ``measure(root, seed, challenge=...)``, and writes the
result as JSON, tagged with the per-run nonce it read from stdin, to the file
descriptor dlpath passed (a file outside the project). Anything else the
process prints is only output.

Arguments: FD PROBE_FILE ROOT SEED CHALLENGE(0|1) SITE_DIRS_JSON
"""

import json
import os
import sys


def _source_only(root: str) -> None:
    """Inside the project, import ``.py`` sources only (no sourceless ``.pyc``,
    no compiled extension standing in for a learner's module)."""
    from importlib.machinery import SOURCE_SUFFIXES, FileFinder, SourceFileLoader

    restricted = FileFinder.path_hook((SourceFileLoader, SOURCE_SUFFIXES))

    def hook(path: str):
        real = os.path.realpath(path or ".")
        if real == root or real.startswith(root + os.sep):
            return restricted(path)
        raise ImportError("not a project folder")

    sys.path_hooks.insert(0, hook)
    sys.path_importer_cache.clear()


def _main() -> None:
    fd, probe_file, root = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    seed, challenge = int(sys.argv[4]), sys.argv[5] == "1"
    site_dirs = json.loads(sys.argv[6])
    nonce = sys.stdin.readline().strip()
    sys.stdin.close()
    os.set_inheritable(fd, False)  # the learner's subprocesses never get it
    channel = os.fdopen(fd, "w", encoding="utf-8")

    import importlib.util
    import math
    import site
    import traceback
    from pathlib import Path

    def send(payload: dict) -> None:
        channel.write(json.dumps({**payload, "nonce": nonce, "seed": seed}))
        channel.flush()
        channel.close()

    for folder in site_dirs:
        site.addsitedir(folder)
    real_root = os.path.realpath(root)
    sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) != real_root]
    sys.path.insert(0, os.path.dirname(os.path.abspath(probe_file)))
    sys.path.append(root)
    _source_only(real_root)
    try:
        spec = importlib.util.spec_from_file_location("dlpath_probe", probe_file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        result = module.measure(Path(root), seed, challenge=challenge)
    except BaseException as exc:  # SystemExit from learner code too: never a pass
        text = str(exc).strip()
        send({"ok": False, "error": f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
              .rstrip(": "), "todo": isinstance(exc, NotImplementedError),
              "traceback": traceback.format_exc()[-3000:]})
        return
    if not isinstance(result, dict):
        send({"ok": False, "error": f"measure() returned {type(result).__name__}, not a dict",
              "probe_bug": True})
        return
    values, notes, bad = {}, [], []
    for key, value in result.items():
        if key == "not_implemented" and isinstance(value, list):
            notes = [str(v) for v in value]
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
            values[str(key)] = value if math.isfinite(value) else str(value)
        else:
            bad.append(str(key))
    send({"ok": True, "values": values, "notes": notes, "bad": bad})


if __name__ == "__main__":
    _main()
