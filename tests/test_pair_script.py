"""pair.lua against a plain Python statement of its rules, on random populations in the real Redis.

The rules (shared/matching/pair.lua): the oldest user who has any compatible partner goes first,
with the oldest compatible partner not blocked with them, searched WINDOW + 1 entries deep in each
compatible class; a user with no unblocked partner in reach stays in place, skipped for the rest of
the call (at most MAX_SKIPS skips a call). The script reads class queues in chunks and keeps them in
memory between pairs; this checks that doing so never changes who is paired with whom, or in what order.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from devstack.stack import Stack
from shared import keys
from shared.clients.redis import get_redis
from shared.matching import model, pairing, queue
from tests.matching_helpers import clear_matching_redis, waiting

GENDERS = (*model.GENDERS, model.NO_GENDER)
WANTS = (*model.GENDERS, model.ANY)
WINDOW = 8  # pair.lua's constants
MAX_SKIPS = 16
BASE_MS = 1_900_000_000_000


@pytest.fixture(autouse=True)
def clean_queue(stack: Stack) -> Iterator[None]:
    clear_matching_redis()
    yield
    clear_matching_redis()


def expected_claims(
    population: list[tuple[str, str, str]], blocks: set[frozenset[str]], wanted: int
) -> list[tuple[str, str]]:
    """The pairs one call of pair.lua takes, stated plainly. `population`: (uid, gender, want),
    oldest first."""
    waiting = list(population)
    skipped: set[str] = set()

    def klass(entry: tuple[str, str, str]) -> tuple[str, str]:
        return entry[1], entry[2]

    def compatible(x: tuple[str, str, str], y: tuple[str, str, str]) -> bool:
        return model.compatible(x[1], x[2], y[1], y[2])

    def in_reach(a: tuple[str, str, str], cls: tuple[str, str]) -> list[tuple[str, str, str]]:
        members = [e for e in waiting if klass(e) == cls and e[0] not in skipped]
        return [e for e in members[: WINDOW + 1] if e[0] != a[0]]

    pairs: list[tuple[str, str]] = []
    skips = 0
    while len(pairs) < wanted:
        active = [e for e in waiting if e[0] not in skipped]
        heads = {}
        for e in active:
            heads.setdefault(klass(e), e)
        with_partner = [h for h in heads.values() if any(compatible(h, o) for o in active if o[0] != h[0])]
        if not with_partner:
            break
        a = min(with_partner, key=lambda e: waiting.index(e))
        classes = {klass(o) for o in active if o[0] != a[0] and compatible(a, o)}
        candidates = [e for cls in classes for e in in_reach(a, cls)]
        unblocked = [e for e in candidates if frozenset((a[0], e[0])) not in blocks]
        if not unblocked:
            if skips >= MAX_SKIPS:
                break
            skipped.add(a[0])
            skips += 1
            continue
        b = min(unblocked, key=lambda e: waiting.index(e))
        pairs.append((a[0], b[0]))
        waiting.remove(a)
        waiting.remove(b)
    return pairs


def queue_population(population: list[tuple[str, str, str]], blocks: set[frozenset[str]]) -> None:
    client = get_redis()
    for place, (uid, gender, want) in enumerate(population):
        queue.put_ticket(uid, "fresh", BASE_MS + place, BASE_MS + 3_600_000, gender, want)
    for pair in blocks:
        a, b = sorted(pair)
        client.sadd(keys.blocks(a), b)
        client.sadd(keys.blocks(b), a)


@pytest.mark.parametrize("seed", range(40))
def test_pair_lua_takes_exactly_the_pairs_its_rules_say(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.randint(2, 70)
    # Few classes in some populations (long class queues), every class in others.
    genders = rng.sample(GENDERS, rng.randint(1, len(GENDERS)))
    wants = rng.sample(WANTS, rng.randint(1, len(WANTS)))
    population = [(f"u{seed}-{i:03d}", rng.choice(genders), rng.choice(wants)) for i in range(size)]
    density = rng.choice((0.0, 0.05, 0.3, 0.9))
    uids = [uid for uid, _, _ in population]
    blocks = {frozenset((a, b)) for i, a in enumerate(uids) for b in uids[i + 1 :] if rng.random() < density}
    wanted = rng.choice((1, 2, 4, 16, 40))
    queue_population(population, blocks)
    claims = pairing.claim_pairs(wanted, now_ms=BASE_MS + 10_000)
    assert [(c.a, c.b) for c in claims] == expected_claims(population, blocks, wanted)
    claimed = {uid for c in claims for uid in (c.a, c.b)}
    assert waiting() == [uid for uid in uids if uid not in claimed]  # everyone else keeps their place
