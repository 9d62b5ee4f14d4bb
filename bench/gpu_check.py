"""The helper behind bench/gpu_check.sh (read that file first).

``download`` (on a machine with the package index): the wheels a GPU machine
with only PyTorch, NumPy, scikit-learn, matplotlib and pytest lacks to render
the templates and run their pipelines and tests (cookiecutter, PyYAML, each
template's extra dependencies, and what they need), into one folder.

``run`` (on the GPU machine, no index, no DVC): unpacks the wheels it lacks
into a temporary folder, renders every template with dlpath from this
checkout (reference solution written in, and/or fresh), runs each pipeline's
stage commands from dvc.yaml in dependency order, checks that each stage
wrote its declared outputs, runs the project's tests, and prints the seconds
and the device each used. Everything it writes is under one temporary folder,
removed at the end (``--keep`` keeps it); HOME, TMPDIR and the caches point
there, and no bytecode is written.

The device a stage used is measured, not assumed: a ``sitecustomize`` on the
stages' PYTHONPATH records, when each Python process exits, whether it had
initialised CUDA and its peak GPU memory.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# What the GPU machine has (with everything they depend on): never carried.
PROVIDED = ["torch", "numpy", "scikit-learn", "matplotlib", "pytest"]
# What rendering and every project need beyond that (plus each template's
# __extra_dependencies). dvc and dvclive are left out on purpose: projects
# write DVCLive's files themselves when it is missing, and stages run without DVC.
NEEDED = ["cookiecutter", "pyyaml"]
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
ARCHES = ["x86_64", "aarch64"]
BUDGET_MIB = 48  # the device tool carries 64 MiB with the working tree

REPORT_HOOK = '''\
"""gpu_check: record at exit whether this process used CUDA (see bench/gpu_check.py)."""
import atexit, json, os, sys


def _report():
    path = os.environ.get("GPU_CHECK_REPORT")
    torch = sys.modules.get("torch")
    if not path or torch is None:
        return
    row = {"argv": sys.argv[:3], "cuda": False, "peak_mib": 0.0, "mps": False}
    try:
        if torch.cuda.is_initialized():
            row["cuda"] = True
            row["name"] = torch.cuda.get_device_name(0)
            row["peak_mib"] = round(max(torch.cuda.max_memory_allocated(i)
                                        for i in range(torch.cuda.device_count())) / 2**20, 1)
        mps = getattr(torch, "mps", None)
        row["mps"] = bool(mps and torch.backends.mps.is_available()
                          and mps.current_allocated_memory() > 0)
    except Exception as exc:  # never fail the process being measured
        row["error"] = repr(exc)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\\n")


atexit.register(_report)
'''


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(req: str) -> str:
    return re.match(r"[A-Za-z0-9_.\-]+", req.strip()).group(0)


# ------------------------------------------------------------------ download


def _closure(names: list[str]) -> dict[str, str]:
    """Installed distributions ``names`` need (themselves included): name -> version."""
    from packaging.markers import default_environment  # noqa: F401  (pip brings packaging)
    from packaging.requirements import Requirement

    found: dict[str, str] = {}
    todo = list(names)
    while todo:
        name = canonical(todo.pop())
        if name in found:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            raise SystemExit(f"{name} is not installed here: activate dlpath's venv "
                             "(with the ml extra) before --download") from None
        found[name] = dist.version
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            todo.append(req.name)
    return found


def template_extras() -> list[str]:
    extras = []
    for path in sorted((REPO / "templates").glob("*/cookiecutter.json")):
        extras += json.loads(path.read_text()).get("__extra_dependencies", [])
    return [requirement_name(r) for r in extras]


def _pip_download(dest: Path, pins: list[str], *options: str) -> None:
    if not pins:
        return
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
           "--only-binary=:all:", "--dest", str(dest), *options, *pins]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  pip download {' '.join(options)} failed:\n{done.stderr[-1500:]}",
              file=sys.stderr)


def download(dest: Path, pythons: list[str]) -> None:
    provided = _closure(PROVIDED)
    wanted = {k: v for k, v in _closure(NEEDED + template_extras()).items() if k not in provided}
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    pins = [f"{name}=={version}" for name, version in sorted(wanted.items())]
    _pip_download(dest, pins)  # this machine's wheels: pure ones serve everywhere
    compiled = sorted({canonical(f.name.split("-")[0]) for f in dest.glob("*.whl")
                       if not f.name.endswith("-none-any.whl")})
    for py in pythons:
        for arch in ARCHES:
            platforms = [f"manylinux2014_{arch}", f"manylinux_2_17_{arch}",
                         f"manylinux_2_28_{arch}"]
            _pip_download(dest, [f"{n}=={wanted[n]}" for n in compiled], "--python-version", py,
                          "--implementation", "cp", *(f"--platform={p}" for p in platforms))
    files = sorted(dest.glob("*.whl"))
    total = sum(f.stat().st_size for f in files) / 2**20
    for f in files:
        print(f"  {f.stat().st_size / 2**10:8.0f} KiB  {f.name}")
    print(f"{len(files)} wheels, {total:.1f} MiB in {dest}")
    if total > BUDGET_MIB:
        raise SystemExit(f"{total:.1f} MiB is more than {BUDGET_MIB} MiB: download for the GPU "
                         "machine's Python only (--python 3.X; `python3 -V` there).")


# --------------------------------------------------------------- installing


def _wheel_fits(filename: str) -> bool:
    """Whether a wheel file suits this interpreter and CPU (without pip)."""
    parts = filename[:-4].split("-")
    pys, abi, plats = parts[-3], parts[-2], parts[-1]
    here = f"cp{sys.version_info.major}{sys.version_info.minor}"
    if abi == "none" and plats == "any":
        return any(p in ("py3", "py2.py3", here) for p in pys.split("."))
    machine = platform.machine().lower()
    if not any(machine in p for p in plats.split(".")):
        return False
    if abi == "abi3":  # the stable ABI: any Python from the one named on
        return any(p.startswith("cp3") and int(p[3:]) <= sys.version_info.minor
                   for p in pys.split("."))
    return here in pys.split(".") and abi.startswith(here)


def unpack_missing(wheels: Path, site: Path) -> list[str]:
    """Unzip into ``site`` each carried wheel whose distribution this Python lacks."""
    site.mkdir(parents=True, exist_ok=True)
    added = []
    by_name: dict[str, list[Path]] = {}
    for wheel in sorted(wheels.glob("*.whl")):
        by_name.setdefault(canonical(wheel.name.split("-")[0]), []).append(wheel)
    for name, files in sorted(by_name.items()):
        try:
            md.distribution(name)
            continue  # already installed on this machine
        except md.PackageNotFoundError:
            pass
        fitting = [f for f in files if _wheel_fits(f.name)]
        if not fitting:
            print(f"  no carried wheel of {name} fits Python "
                  f"{platform.python_version()} on {platform.machine()}")
            continue
        with zipfile.ZipFile(fitting[0]) as zf:
            zf.extractall(site)
        for data in site.glob("*.data"):  # purelib/platlib parts of a wheel
            for part in ("purelib", "platlib"):
                if (data / part).is_dir():
                    shutil.copytree(data / part, site, dirs_exist_ok=True)
            shutil.rmtree(data)
        added.append(fitting[0].name)
    return added


# -------------------------------------------------------------------- stages


def _outs(stage: dict) -> list[str]:
    paths = []
    for key in ("outs", "metrics", "plots"):
        for entry in stage.get(key) or []:
            paths.append(next(iter(entry)) if isinstance(entry, dict) else entry)
    return paths


def _covers(out: str, dep: str) -> bool:
    out, dep = out.rstrip("/"), dep.rstrip("/")
    return dep == out or dep.startswith(out + "/") or out.startswith(dep + "/")


def stage_order(dvc_yaml: dict) -> list[str]:
    """Stage names in dependency order (a stage after those whose outputs it
    reads), dvc.yaml's order otherwise."""
    stages = dvc_yaml.get("stages") or {}
    for name, stage in stages.items():
        if "foreach" in stage or "matrix" in stage:
            raise SystemExit(f"stage {name}: foreach/matrix stages are not supported here")
    after = {name: {other for other, o in stages.items() if other != name
                    for dep in stage.get("deps") or [] for out in _outs(o) if _covers(out, dep)}
             for name, stage in stages.items()}
    order: list[str] = []
    while len(order) < len(stages):
        ready = [n for n in stages if n not in order and after[n] <= set(order)]
        if not ready:
            raise SystemExit(f"dvc.yaml has a cycle among {sorted(set(stages) - set(order))}")
        order.append(ready[0])
    return order


def interpolate(cmd: str, params: dict) -> str:
    def value(match: re.Match) -> str:
        node = params
        for key in match.group(1).strip().split("."):
            node = node[key]
        return str(node)

    return re.sub(r"\$\{([^}]+)\}", value, cmd)


def device_of(report: Path) -> str:
    if not report.is_file():
        return "no torch"
    rows = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    report.unlink()
    cuda = [r for r in rows if r.get("cuda")]
    if cuda:
        peak = max(r["peak_mib"] for r in cuda)
        return f"cuda ({cuda[0].get('name', 'GPU')}, peak {peak:.0f} MiB)"
    if any(r.get("mps") for r in rows):
        return "mps"
    return "cpu" if rows else "no torch"


def _tail(path: Path, lines: int = 25) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join("      | " + line for line in text[-lines:])


class Runner:
    def __init__(self, work: Path, env: dict[str, str], stage_timeout: float):
        self.work, self.env, self.stage_timeout = work, env, stage_timeout
        self.report = work / "device-report.jsonl"
        self.env["GPU_CHECK_REPORT"] = str(self.report)
        self.rows: list[dict] = []
        self.failures = 0

    def command(self, cmd: str, cwd: Path, log: Path) -> tuple[int | None, float, str]:
        start = time.perf_counter()
        with log.open("w", encoding="utf-8") as out:
            proc = subprocess.Popen(cmd, shell=True, cwd=cwd, env=self.env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            try:
                code: int | None = proc.wait(timeout=self.stage_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                code = None
        return code, time.perf_counter() - start, device_of(self.report)

    def project(self, label: str, root: Path) -> None:
        import yaml

        spec = yaml.safe_load((root / "dvc.yaml").read_text())
        params_file = root / "params.yaml"
        params = yaml.safe_load(params_file.read_text()) if params_file.is_file() else {}
        for extra in spec.get("vars") or []:  # dvc.yaml's own values for ${...}
            if isinstance(extra, dict):
                params.update(extra)
        logs = self.work / "logs" / label
        logs.mkdir(parents=True)
        broken = False
        for name in stage_order(spec):
            stage = spec["stages"][name]
            if broken:
                self._row(label, name, None, "-", "skipped (an earlier stage failed)")
                continue
            cmds = stage["cmd"] if isinstance(stage["cmd"], list) else [stage["cmd"]]
            cwd = root / stage.get("wdir", ".")
            total, devices, status = 0.0, [], "ok"
            for cmd in cmds:
                code, seconds, device = self.command(interpolate(cmd, params), cwd,
                                                     logs / f"{name}.log")
                total += seconds
                devices.append(device)
                if code != 0:
                    status = "timed out" if code is None else f"FAILED (exit {code})"
                    break
            missing = [p for p in _outs(stage) if not (cwd / p).exists()]
            if status == "ok" and missing:
                status = f"FAILED (did not write {', '.join(missing[:3])})"
            self._row(label, name, total, " / ".join(dict.fromkeys(devices)), status)
            if status != "ok":
                broken = True
                print(_tail(logs / f"{name}.log"), flush=True)
        code, seconds, device = self.command(
            f"{shlex_quote(sys.executable)} -m pytest -q -p no:cacheprovider", root,
            logs / "pytest.log")
        summary = _pytest_summary(logs / "pytest.log")
        status = "ok" if code == 0 else ("timed out" if code is None else "FAILED")
        self._row(label, "pytest", seconds, device, f"{status}: {summary}")
        if code != 0:
            print(_tail(logs / "pytest.log", 40), flush=True)

    def _row(self, label: str, stage: str, seconds: float | None, device: str,
             status: str) -> None:
        row = {"project": label, "stage": stage, "seconds": seconds, "device": device,
               "status": status}
        self.rows.append(row)
        if not status.startswith(("ok", "skipped")):
            self.failures += 1
        secs = "-" if seconds is None else f"{seconds:.1f}s"
        print(f"  {label:<26} {stage:<12} {secs:>7}  {device:<34} {status}", flush=True)


def shlex_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _pytest_summary(log: Path) -> str:
    lines = [ln for ln in log.read_text(errors="replace").splitlines()
             if re.search(r"\b(passed|failed|error|skipped|no tests ran)\b", ln)]
    return lines[-1].strip("= ").strip() if lines else "no summary"


def solve(root: Path, template: str) -> None:
    """Write the reference solution in (every template's solution regions,
    groundwork's exercises included)."""
    from dlpath import solutions

    solutions.apply_reference(root)


def environment_line() -> str:
    import torch

    cuda = torch.cuda.is_available()
    gpus = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    return (f"Python {platform.python_version()}, torch {torch.__version__}, "
            f"CUDA {'yes: ' + gpus if cuda else 'no'}, {os.cpu_count()} CPUs")


def isolated_env(work: Path, site: Path) -> dict[str, str]:
    """Children see the carried wheels, a `python` that is this interpreter,
    and a HOME, TMPDIR and caches inside ``work``."""
    bin_dir, hook = work / "bin", work / "hook"
    for folder in (bin_dir, hook, work / "home", work / "tmp", work / "cache"):
        folder.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "python"
    shim.unlink(missing_ok=True)  # never write through a link (to the system's python)
    shim.write_text(f'#!/bin/sh\nexec {shlex_quote(sys.executable)} "$@"\n')
    shim.chmod(0o755)
    (hook / "sitecustomize.py").write_text(REPORT_HOOK)
    env = dict(os.environ)
    env.update({
        "PATH": os.pathsep.join([str(bin_dir), env.get("PATH", "")]),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), str(site),
                                                    env.get("PYTHONPATH")])),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": str(work / "home"),
        "TMPDIR": str(work / "tmp"),
        "XDG_CACHE_HOME": str(work / "cache"),
        "XDG_CONFIG_HOME": str(work / "home" / ".config"),
        "XDG_DATA_HOME": str(work / "home" / ".local" / "share"),
        "MPLCONFIGDIR": str(work / "cache" / "matplotlib"),
        "DLPATH_HOME": str(work / "dlpath-home"),
        "DVC_NO_ANALYTICS": "1",
        "CUDA_CACHE_PATH": str(work / "cache" / "nv"),
    })
    env.pop("DLPATH_DEVICE", None)
    return env


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="dlpath-gpu-check-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on a kill too
    try:
        site = work / "site"
        print(f"gpu_check: {environment_line()}")
        added = unpack_missing(args.wheels, site) if args.wheels.is_dir() else []
        print(f"gpu_check: work folder {work}; unpacked {len(added)} carried wheels"
              + (f" ({', '.join(w.split('-')[0] for w in added)})" if added else ""), flush=True)
        sys.path[:0] = [str(site), str(REPO)]
        env = isolated_env(work, site)
        os.environ.update({k: env[k] for k in ("HOME", "TMPDIR", "XDG_CACHE_HOME",
                                               "DLPATH_HOME", "MPLCONFIGDIR")})
        tempfile.tempdir = env["TMPDIR"]
        from dlpath import scaffold, templates

        names = args.templates or sorted(templates.available())
        runner = Runner(work, env, args.stage_timeout)
        print(f"  {'project':<26} {'stage':<12} {'time':>7}  {'device':<34} status")
        skipped = []
        for name in names:
            for variant in args.variants:
                if time.perf_counter() - started > args.budget:
                    skipped.append(f"{name} ({variant})")
                    continue
                label = f"{name} ({variant})"
                root = scaffold.create_project(name, f"{name}-{variant}", work / "projects",
                                               git=False, dvc=False).path
                if variant == "solved":
                    solve(root, name)
                runner.project(label, root)
        total = time.perf_counter() - started
        print(f"gpu_check: {len(runner.rows)} steps, {runner.failures} failed, {total:.0f} s")
        if skipped:
            print(f"gpu_check: over the {args.budget:.0f} s budget, not run: "
                  f"{', '.join(skipped)} (run them with --templates)")
        if args.json:
            print(json.dumps(runner.rows))
        return 1 if runner.failures or skipped else 0
    finally:
        if args.keep:
            print(f"gpu_check: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gpu_check", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    down = sub.add_parser("download", help="fetch the wheels the GPU machine lacks")
    down.add_argument("--dest", type=Path, default=REPO / "bench" / "gpu_check_wheels")
    down.add_argument("--python", action="append", dest="pythons",
                      help="the GPU machine's Python (X.Y; repeatable); default: 3.10-3.13")
    go = sub.add_parser("run", help="render, run the pipelines and tests, report")
    go.add_argument("--wheels", type=Path, default=REPO / "bench" / "gpu_check_wheels")
    go.add_argument("--templates", type=lambda s: [t for t in s.split(",") if t],
                    help="comma-separated (default: all)")
    go.add_argument("--variants", type=lambda s: s.split(","), default=["solved"],
                    help="solved (reference solution: runs every code path), fresh, or both: "
                         "solved,fresh")
    go.add_argument("--stage-timeout", type=float, default=300)
    go.add_argument("--budget", type=float, default=520,
                    help="seconds; templates not started by then are listed, not run")
    go.add_argument("--keep", action="store_true", help="keep the work folder")
    go.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args(argv)
    if args.command == "run" and not set(args.variants) <= {"solved", "fresh"}:
        parser.error("--variants takes solved, fresh or solved,fresh")
    if args.command == "download":
        download(args.dest, args.pythons or PYTHONS)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
