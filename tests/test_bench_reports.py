"""The README's benchmark numbers are the latest `make bench` results, and none is older than the code
it measured (bench/report.py): a changed function, shared module or script names the benchmark to run again."""

from __future__ import annotations

import ast
from pathlib import Path

from bench import report
from bench.registry import BENCHMARKS

ROOT = Path(__file__).resolve().parents[1]


def test_every_benchmark_has_published_results() -> None:
    assert sorted(report.load_results()) == sorted(BENCHMARKS)


def test_no_result_is_older_than_the_code_it_measured() -> None:
    assert report.problems() == []


def test_a_changed_measured_file_makes_its_result_stale() -> None:
    results = report.load_results()
    name = "matching_redis"
    record = results[name]
    tampered = {**record, "measured": {**record["measured"], "shared/matching/pair.lua": "0" * 64}}
    stale = report.stale_results({name: tampered})
    assert stale == {name: ["shared/matching/pair.lua"]}
    assert report.stale_results({name: record}) == {}


def test_the_table_names_every_benchmark_with_its_date_and_machine() -> None:
    results = report.load_results()
    table = report.table(results)
    for name, record in results.items():
        assert f"`bench/{name}.py`" in table
        assert record["started"][:10] in table


# Publishing, not measuring: a change to how a report is written does not change a number.
_PUBLISHING = {"report", "registry"}


def _bench_helpers(path: Path) -> set[Path]:
    """The modules under bench/ that `path` imports, directly or through one another."""
    found: set[Path] = set()
    pending = [path]
    while pending:
        tree = ast.parse(pending.pop().read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
                names = [f"bench.{a.name}" for a in node.names] if module == "bench" else [module]
            for name in names:
                stem = name.removeprefix("bench.").split(".")[0]
                helper = ROOT / "bench" / f"{stem}.py"
                if stem not in _PUBLISHING and helper.is_file() and helper not in found:
                    found.add(helper)
                    pending.append(helper)
    return found


def test_every_bench_helper_a_benchmark_imports_is_measured() -> None:
    """A helper's percentile or stack shapes the benchmark's numbers, so changing it must stale them."""
    for name in BENCHMARKS:
        measured = {ROOT / path for path in report.measured_files(name)}
        missing = _bench_helpers(ROOT / "bench" / f"{name}.py") - measured
        assert not missing, f"{name}: add to its paths in bench/registry.py: {sorted(map(str, missing))}"
