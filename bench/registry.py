"""Every benchmark `make bench` runs: its arguments, its report, and what it measures.

`functions` are the deployed functions a benchmark drives ("*": all of them): their code and every shared module they
import count as measured (bench/report.py fingerprints them, so a result goes stale when that code
changes). `paths` adds other files or folders it measures (Lua scripts, migrations, a service,
and the bench helpers its numbers come from: the stack it runs on, its percentiles, its counters).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    report: str  # the narrative report (docs/bench/...), "" if the console output is all there is
    args: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()


MATCHING_PATH = ("matching_api", "matching_worker", "on_user_written", "on_room_written")
ALL_FUNCTIONS = ("*",)  # every function in the manifest
STACK = "bench/benchstack.py"  # own_stack, percentile, wait_for_triggers, cpu_seconds
COUNTER = "bench/firestore_counter"  # counts a function's Firestore reads and writes

# The order runs the quick ones first.
BENCHMARKS: dict[str, Benchmark] = {
    "cold_import": Benchmark("", functions=ALL_FUNCTIONS, paths=("realtime",)),
    "matching_redis": Benchmark(
        "docs/bench/matching.md",
        paths=("shared/matching", "shared/keys.py", "shared/redis_scripts.py", "shared/config.py"),
    ),
    "trigger_latency": Benchmark(
        "docs/bench/triggers.md",
        ("--out", "docs/bench/triggers.md"),
        ("on_user_written", "on_room_written"),
        (STACK,),
    ),
    "cascade": Benchmark(
        "docs/bench/cascade.md", ("--out", "docs/bench/cascade.md"), MATCHING_PATH, (STACK, COUNTER)
    ),
    "vrm_sync": Benchmark(
        "docs/bench/vrm_sync.md",
        ("--out", "docs/bench/vrm_sync.md"),
        ("sync_vrm_models",),
        (STACK, COUNTER),
    ),
    "matching_stack": Benchmark("docs/bench/matching.md", functions=MATCHING_PATH, paths=(STACK,)),
    "issue_tokens_bench": Benchmark(
        "docs/bench/tokens.md",
        ("--out", "docs/bench/tokens.md"),
        ("issue_tokens",),
        ("bench/floor_function", "bench/round_trips.py", STACK),
    ),
    "abuse": Benchmark(
        "docs/bench/abuse.md",
        ("--out", "docs/bench/abuse.md"),
        ("issue_tokens", "matching_api", "invitations_api"),
        (STACK,),
    ),
    "invitations_bench": Benchmark(
        "docs/bench/invitations.md",
        ("--out", "docs/bench/invitations.md"),
        ("invitations_api", "auto_close"),
        ("migrations", "bench/invitations_seed.py", STACK),
    ),
    "realtime": Benchmark(
        "docs/bench/realtime.md", ("--out", "docs/bench/realtime.md"), paths=("realtime", STACK)
    ),
    "discord_bench": Benchmark(
        "docs/bench/discord.md",
        ("--out", "docs/bench/discord.md"),
        ("discord_interactions", "discord_worker"),
        (STACK, "bench/cold_import.py"),
    ),
}
