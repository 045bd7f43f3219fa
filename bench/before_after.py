"""Before/after: the same measurements on the code of another commit and on this tree, alternating.

``PYTHONPATH=. python -m bench.before_after REV`` checks REV out in a temporary worktree and runs
each measurement in a child process whose domain/, security/ and projections/ come from REV or
from this tree (bench/ always from this tree), on the same stores; medians of 3 rounds.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
sys.path.append(ROOT)
from bench import append
from bench.data import Store
from pathlib import Path
from api.runtime import build_registry, ledger_signer
from projections.rebuild import rebuild_all
from security.ledger import verify_store
folder = Path(FOLDER)
store = Store("sqlite", f"sqlite:///{folder / 'registry.db'}", master_key=b"m" * 32, folder=folder)
what = sys.argv[1]
if what == "fill":
    from bench.data import populate
    from security.ledger import AuditLedger
    registry = build_registry(store.settings()); populate(registry, int(sys.argv[2])); registry.close()
    ledger = AuditLedger(store.storage(), ledger_signer(store.settings())); ledger.integrate(); ledger.close()
    print(json.dumps({}))
elif what == "rebuild":
    start = time.perf_counter(); n = rebuild_all(store.env())
    print(json.dumps({"rebuild": n / (time.perf_counter() - start)}))
elif what == "verify":
    start = time.perf_counter(); found = verify_store(store.storage()); assert found.ok
    print(json.dumps({"verify": found.tree_size / (time.perf_counter() - start)}))
elif what == "append":
    import tempfile
    from bench.data import temporary_store
    ratios = []
    for _ in range(2):  # registry, plain, registry, plain: the mean of the two pairs' ratios
        with temporary_store("sqlite") as s:
            r = build_registry(s.settings()); a = append.batched(r, 20000); r.close()
        with temporary_store("sqlite") as s:
            p = append.plain_registry(s); b = append.batched(p, 20000); p.close()
        ratios.append(a / b)
    print(json.dumps({"append_vs_plain": sum(ratios) / len(ratios)}))
"""


def child(tree: Path, folder: Path, *args: str) -> dict[str, Any]:
    code = CHILD.replace("ROOT", repr(str(ROOT))).replace("FOLDER", repr(str(folder)))
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code, *args],
        env=env, cwd=tree, capture_output=True, text=True, check=True,
    )  # fmt: skip
    found: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    rev = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    events = sys.argv[2] if len(sys.argv) > 2 else "20000"
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as scratch:
        before = Path(scratch) / "before"
        subprocess.run(  # noqa: S603
            ["git", "worktree", "add", "--detach", str(before), rev],  # noqa: S607
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        try:
            folder = Path(scratch) / "store"
            folder.mkdir()
            child(before, folder, "fill", events)
            runs: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
            for _ in range(3):
                for name, tree in (("before", before), ("after", ROOT)):
                    for what in ("rebuild", "verify", "append"):
                        for key, value in child(tree, folder, what).items():
                            runs[name].setdefault(key, []).append(value)
            print(f"before = {rev}, after = this tree; {events} events; medians of 3, alternating")
            for key in runs["before"]:
                b = statistics.median(runs["before"][key])
                a = statistics.median(runs["after"][key])
                print(f"{key:16} before {b:12,.2f}  after {a:12,.2f}  ({a / b:.2f}x)")
            print(json.dumps(runs))
        finally:
            subprocess.run(  # noqa: S603
                ["git", "worktree", "remove", "--force", str(before)],  # noqa: S607
                cwd=ROOT, check=False, capture_output=True,
            )  # fmt: skip


if __name__ == "__main__":
    main()
