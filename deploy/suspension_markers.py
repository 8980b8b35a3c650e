"""Move suspension markers off the public profile, once, after deploying the release that keeps them
in `users/{uid}/private/suspension`.

Before that release the marker `{until}` was a field of `users/{uid}`, which any signed-in user may
read by id: whoever knew a uid could tell that its owner was suspended, or held for review after
reports. The checks still honour such a field (shared/safety.py), so no suspension goes unenforced
before or while this runs. Each user moves in a transaction of their own, decided by the record
`suspensions/{uid}` (shared/account/suspensions.py `move_public_marker`), so a run can be stopped
and started again; a second run finds nothing, as nothing writes the public field any more.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime


def move_all(dry_run: bool = False) -> Counter[str]:
    """How many users had each outcome: 'moved', 'dropped' or 'none' (`move_public_marker`), or
    'found' on a dry run, which changes nothing."""
    from shared import firestore_queries
    from shared.account.suspensions import move_public_marker

    # Ids only, read before the first move: a suspended user base is small, and each move takes its
    # user out of the query's results.
    uids = [snap.id for snap in firestore_queries.public_suspension_markers().select([]).stream()]
    if dry_run:
        return Counter(found=len(uids))
    return Counter(move_public_marker(uid, datetime.now(UTC)) for uid in uids)
