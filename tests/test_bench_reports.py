"""The README's benchmark numbers are the latest `make bench` results, and none is older than the code
it measured (bench/report.py): a changed function, shared module or script names the benchmark to run again."""

from __future__ import annotations

from bench import report
from bench.registry import BENCHMARKS


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
