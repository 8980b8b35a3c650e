"""Cold-start cost of each function: `import main` in a fresh interpreter, as a new instance does.

Reports, per function, the median over several runs of (a) the whole import including
functions-framework and (b) the function's own part with functions-framework already loaded (what
the platform's worker pays after its own boot), and which heavy client libraries the import loaded
(none should be: clients are created lazily on first use).

    .venv/bin/python bench/cold_import.py [--runs 9] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Row, Run  # noqa: E402
from deploy.manifest import load_manifest  # noqa: E402

HEAVY = (
    "google.cloud.firestore",
    "google.cloud.pubsub",
    "sqlalchemy",
    "google.cloud.sql.connector",
    "grpc",
    "redis",
)

PROBE = """
import json, sys, time
sys.path.insert(0, {source!r})
preload = {preload!r}
if preload:
    import functions_framework
start = time.perf_counter()
import main
elapsed = time.perf_counter() - start
heavy = sorted({{m.split('.')[0] if not m.startswith('google.cloud') else '.'.join(m.split('.')[:3])
                 for m in sys.modules if any(m == h or m.startswith(h + '.') for h in {heavy!r})}})
print(json.dumps({{"seconds": elapsed, "heavy": heavy}}))
"""


def measure(source: Path, preload: bool) -> dict[str, Any]:
    code = PROBE.format(source=str(source), preload=preload, heavy=HEAVY)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=source, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    run = Run("cold_import")
    rows = []
    for name, spec in load_manifest().items():
        # One warm-up run so that .pyc compilation is not counted (a deployed image has its .pyc).
        measure(spec.source_dir, preload=False)
        total = [float(measure(spec.source_dir, preload=False)["seconds"]) for _ in range(args.runs)]
        own_runs = [measure(spec.source_dir, preload=True) for _ in range(args.runs)]
        own = [float(r["seconds"]) for r in own_runs]
        rows.append(
            {
                "function": name,
                "total_median_s": round(statistics.median(total), 3),
                "total_max_s": round(max(total), 3),
                "own_median_s": round(statistics.median(own), 3),
                "heavy_loaded": own_runs[0]["heavy"],
            }
        )
    rows.append(realtime_row(args.runs))
    publish(run, rows, args.runs)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(
        f"{'function':<18} {'import main (median)':>21} {'max':>7} {'own part':>9}  heavy clients loaded at import"
    )
    for row in rows:
        print(
            f"{row['function']:<18} {row['total_median_s']:>20.3f}s {row['total_max_s']:>6.3f}s"
            f" {row['own_median_s']:>8.3f}s  {', '.join(row['heavy_loaded']) or '-'}"  # type: ignore[arg-type]
        )


def publish(run: Run, rows: list[dict[str, Any]], runs: int) -> None:
    functions = [row for row in rows if not str(row["function"]).endswith("(svc)")]
    medians = {str(row["function"]): float(row["total_median_s"]) for row in functions}
    slowest = max(medians, key=lambda name: medians[name])
    heavy = sorted(
        {f"{row['function']}: {', '.join(row['heavy_loaded'])}" for row in functions if row["heavy_loaded"]}
    )
    service = rows[-1]
    run.publish(
        [
            Row(
                f"cold `import main` of each of the {len(functions)} functions (median of {runs})",
                f"{min(medians.values()):.3f}–{max(medians.values()):.3f} s, slowest `{slowest}` "
                f"(target < 0.35 s: {'met' if medians[slowest] < 0.35 else 'missed'}); store clients "
                f"loaded at import: {'; '.join(heavy) or 'none'}",
            ),
            Row(
                "realtime service: everything imported before it listens",
                f"{float(service['total_median_s']):.3f} s (CPU {float(service['cpu_median_s']):.3f} s)",
            ),
        ]
    )


SERVICE_PROBE = """
import json, sys, time
start = time.perf_counter()
cpu = time.process_time()
import realtime.app, realtime.__main__, redis.asyncio, uvloop  # all the service loads before listening
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
heavy = sorted({m.split('.')[0] for m in sys.modules if m.startswith(('google.cloud.', 'grpc', 'sqlalchemy', 'flask'))})
print(json.dumps({"seconds": elapsed, "cpu": cpu, "heavy": heavy}))
"""


def realtime_row(runs: int) -> dict[str, object]:
    """The realtime service (a Cloud Run container, not a function): everything it imports before it
    listens. In this venv redis also loads opentelemetry (a dev dependency), which the image lacks."""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}

    def once() -> dict[str, object]:
        out = subprocess.run(
            [sys.executable, "-c", SERVICE_PROBE],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))

    once()
    results = [once() for _ in range(runs)]
    seconds = [float(r["seconds"]) for r in results]  # type: ignore[arg-type]
    return {
        "function": "realtime (svc)",
        "total_median_s": round(statistics.median(seconds), 3),
        "total_max_s": round(max(seconds), 3),
        "own_median_s": round(statistics.median(seconds), 3),  # nothing is preloaded: all of it is its own
        "cpu_median_s": round(statistics.median(float(r["cpu"]) for r in results), 3),  # type: ignore[arg-type]
        "heavy_loaded": results[0]["heavy"],
    }


if __name__ == "__main__":
    main()
