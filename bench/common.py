"""Figures, timing and the one table `make bench` prints."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    """One measured line of the table, with what it is compared with and its target."""

    section: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline:
            return None
        return self.value / self.baseline

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["ratio"] = self.ratio
        return found


@dataclass
class Results:
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        print(f"  {figure.section}: {figure.name} = {fmt(figure.value)} {figure.unit}", flush=True)
        return figure


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """``with stopwatch() as elapsed: ...``; ``elapsed()`` is the seconds so far (frozen at exit)."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def fmt(value: float | None) -> str:
    if value is None:
        return ""
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def cpu_probe() -> float:
    """Seconds of CPU for a fixed pure-Python loop: this machine's speed swings by up to 2x from
    one minute to the next, and the same code's figures with it; the probe says which spell a
    run met (taken at the start and the end of every run)."""
    started = time.process_time()
    total = 0
    for number in range(5_000_000):
        total += number * 2
    return round(time.process_time() - started, 3)


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpu_probe_seconds": cpu_probe(),
    }


def table(results: Results) -> str:
    """The one table: section, figure, value, baseline, ratio, target, met."""
    head = ("section", "figure", "value", "unit", "beside", "ratio", "target", "met")
    rows = [head]
    for f in results.figures:
        ratio = f.ratio
        rows.append(
            (
                f.section,
                f.name,
                fmt(f.value),
                f.unit,
                f"{fmt(f.baseline)} {f.baseline_name}".strip(),
                "" if ratio is None else f"{ratio:.2f}x",
                f.target,
                "" if f.met is None else ("yes" if f.met else "NO"),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
