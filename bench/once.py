"""One rebuild or one `registry verify` of a store, in a fresh interpreter (`run` starts it).

Each measured run starts as an operator's command would: no warm caches, no other threads and
no heap left by earlier measurements. Prints one JSON line: events and seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run(what: str, env: dict[str, str]) -> dict[str, Any]:
    """``what`` ("rebuild" or "verify") on the store ``env`` names, timed in a child process
    (``env`` is the library environment; for verify, its storage part is used)."""
    out = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", "bench.once", what],
        input=json.dumps(env), capture_output=True, text=True, check=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    found: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    what = sys.argv[1]
    env: dict[str, str] = json.loads(sys.stdin.read())
    if what == "rebuild":
        from projections.rebuild import rebuild_all

        started = time.perf_counter()
        events = rebuild_all(env)
        seconds = time.perf_counter() - started
    elif what == "verify":
        from security.ledger import verify_store

        started = time.perf_counter()
        found = verify_store(env)
        seconds = time.perf_counter() - started
        if not found.ok:
            raise SystemExit(found.summary())
        events = found.tree_size
    else:
        raise SystemExit(f"unknown measurement {what!r}: rebuild or verify")
    print(json.dumps({"events": events, "seconds": seconds}))


if __name__ == "__main__":
    main()
