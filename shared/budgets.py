"""Budgets that more than one function takes from. A budget's name is its Redis key, so two functions
that declare the same name share one bucket per user: declared once here, they cannot disagree on
its size."""

from __future__ import annotations

from shared.config import settings
from shared.http import Budget

# Every read route of invitations_api and account_api (lists and details): generous per minute, with
# a burst so that a flood is paced rather than served a minute's allowance at once (shared/ratelimit.py).
READS = Budget(
    "reads", lambda: settings().rate_limit_reads_per_min, burst=lambda: settings().rate_limit_reads_burst
)
