"""`python -m bench` (make bench) and `python -m bench --scale` (make bench-scale).

Prints one table and writes bench/results.json (bench/scale.json for --scale).
Sizes shrink with ``--quick`` (to debug the harness) and grow with ``BENCH_SCALE_EVENTS``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import append, http, reads, scale
from bench.common import Results, machine, table
from bench.data import postgres_available, temporary_store

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scale", action="store_true", help="the 1,000,000-event run")
    parser.add_argument("--quick", action="store_true", help="small sizes, to debug the harness")
    parser.add_argument("--events", type=int, default=None, help="events for --scale")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    results = Results()
    started = time.time()
    results.details["machine_at_start"] = machine()
    if args.scale:
        events = args.events or int(os.environ.get("BENCH_SCALE_EVENTS", "1000000"))
        results.details["scale"] = scale.run(results, events)
        out = HERE / "scale.json"
    else:
        quick = args.quick
        with_pg = not args.no_postgres and postgres_available()
        append_events, commands = (2000, 200) if quick else (12_000, 600)
        rebuild_events = 5000 if quick else 50_000
        tt = (1000, 100, 5) if quick else (10_000, 100, 20)
        http_events, seconds = (500, 3.0) if quick else (5000, 10.0)
        backends = ["sqlite", "postgres"] if with_pg else ["sqlite"]
        for backend in backends:
            print(f"append on {backend} ...", flush=True)
            results.details[f"append_{backend}"] = append.run(
                results, backend, append_events, commands
            )
        for backend in backends:
            print(f"rebuild/verify/time travel on {backend} ...", flush=True)
            results.details[f"reads_{backend}"] = reads.run(
                results, backend, rebuild_events, with_verify=True,
                tt=tt if backend == "sqlite" else None,
            )  # fmt: skip
        for backend in backends:
            print(f"GraphQL over HTTP on {backend} ...", flush=True)
            with temporary_store(backend) as store:
                results.details[f"http_{backend}"] = http.run(
                    results, store, http_events, seconds=seconds
                )
        if not with_pg:
            results.details["postgres"] = "skipped: PostgreSQL did not answer"
        out = HERE / "results.json"
    results.details["machine_at_end"] = machine()
    results.details["seconds"] = round(time.time() - started, 1)
    text = table(results)
    print()
    print(text)
    m = results.details["machine_at_end"]
    first = results.details["machine_at_start"]
    print(
        f"\n{m['nproc']} x {m['cpu']}, Python {m['python']}; load average "
        f"{first['load_average']} at start, {m['load_average']} at end; CPU probe "
        f"{first['cpu_probe_seconds']} s at start, {m['cpu_probe_seconds']} s at end; "
        f"{results.details['seconds']} s"
    )
    payload: dict[str, Any] = {
        "figures": [f.as_dict() for f in results.figures],
        "details": results.details,
        "table": text,
    }
    out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"wrote {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    tempfile.tempdir = os.environ.get("BENCH_TMPDIR") or None
    main()
