"""Measuring latency so that the numbers mean something on a busy machine.

* Warm up first: the first calls allocate buffers and pick kernels.
* Take many timed runs and report the median (robust to a few slow runs)
  with the interquartile range (IQR: how much runs vary; a wide IQR says the
  machine was busy, so trust the ratio more than the milliseconds).
* Interleave the variants (fp32, int8, pruned, fp32, int8, ...): when the
  machine gets busier halfway, every variant is slowed alike and the *ratios*
  stay meaningful, even if the milliseconds do not.

Imports nothing from the project, so dlpath's checks time models the same way.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def time_interleaved(fns: dict[str, Callable[[], object]], repeats: int, warmup: int,
                     budget_s: float | None = None, at_least: int = 5,
                     block: int = 4) -> dict[str, list[float]]:
    """Seconds per call of each function: ``repeats`` rounds, each running
    every function ``block`` times in a row and keeping all but the first of
    those calls (the first one finds its weights evicted from the CPU's
    caches by the model before it; the kept ones measure the model itself,
    warm, as a served model runs).

    With ``budget_s``, stop early (after at least ``at_least`` rounds) once
    the rounds have taken that long: on an oversubscribed machine, one run
    on all cores can take a hundred times longer than on one.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    began = time.perf_counter()
    for done in range(1, repeats + 1):
        for name, fn in fns.items():
            for call in range(max(block, 2)):
                start = time.perf_counter()
                fn()
                if call:
                    times[name].append(time.perf_counter() - start)
        if budget_s is not None and done >= at_least and time.perf_counter() - began > budget_s:
            break
    return times


def summary(seconds: list[float]) -> dict[str, float]:
    """Median and interquartile range, in milliseconds."""
    q1, median, q3 = statistics.quantiles(seconds, n=4, method="inclusive")
    return {"median_ms": round(median * 1000, 5), "q1_ms": round(q1 * 1000, 5),
            "q3_ms": round(q3 * 1000, 5), "iqr_ms": round((q3 - q1) * 1000, 5)}


def quantile(seconds: list[float], q: float) -> float:
    """The ``q`` quantile (0.5: the median; 0.25: the lower quartile)."""
    ordered = sorted(seconds)
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def ratio(times: dict[str, list[float]], name: str, base: str, q: float = 0.5) -> float:
    """Latency of ``name`` over that of ``base``, at the ``q`` quantile of
    each (the median by default). On a busy machine many runs wait for a core
    and the median drifts; the lower quartile (q=0.25) is closer to what the
    code itself costs, which is why dlpath's checks judge with it."""
    return quantile(times[name], q) / quantile(times[base], q)
