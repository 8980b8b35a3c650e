"""Every benchmark `make bench` runs: its arguments, its report, and what it measures.

`functions` are the deployed functions a benchmark drives ("*": all of them): their code and every shared module they
import count as measured (bench/report.py fingerprints them, so a result goes stale when that code
changes). `paths` adds other files or folders it measures (Lua scripts, migrations, a service).
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

# The order runs the quick ones first.
BENCHMARKS: dict[str, Benchmark] = {
    "cold_import": Benchmark("", functions=ALL_FUNCTIONS, paths=("realtime",)),
    "matching_redis": Benchmark(
        "docs/bench/matching.md",
        paths=("shared/matching", "shared/keys.py", "shared/redis_scripts.py", "shared/config.py"),
    ),
    "trigger_latency": Benchmark(
        "docs/bench/triggers.md", ("--out", "docs/bench/triggers.md"), ("on_user_written", "on_room_written")
    ),
    "cascade": Benchmark("docs/bench/cascade.md", ("--out", "docs/bench/cascade.md"), MATCHING_PATH),
    "vrm_sync": Benchmark("docs/bench/vrm_sync.md", functions=("sync_vrm_models",)),
    "matching_stack": Benchmark(
        "docs/bench/matching.md", functions=MATCHING_PATH, paths=("bench/benchstack.py",)
    ),
    "issue_tokens_bench": Benchmark(
        "docs/bench/tokens.md",
        ("--out", "docs/bench/tokens.md"),
        ("issue_tokens",),
        ("bench/floor_function", "bench/round_trips.py", "bench/benchstack.py"),
    ),
    "abuse": Benchmark(
        "docs/bench/abuse.md",
        ("--out", "docs/bench/abuse.md"),
        ("issue_tokens", "matching_api", "invitations_api"),
    ),
    "invitations_bench": Benchmark(
        "docs/bench/invitations.md",
        ("--out", "docs/bench/invitations.md"),
        ("invitations_api", "auto_close"),
        ("migrations",),
    ),
    "realtime": Benchmark("docs/bench/realtime.md", ("--out", "docs/bench/realtime.md"), paths=("realtime",)),
    "discord_bench": Benchmark(
        "docs/bench/discord.md",
        ("--out", "docs/bench/discord.md"),
        ("discord_interactions", "discord_worker"),
    ),
}
