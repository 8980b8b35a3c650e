"""Rooms: lifecycle decisions (`lifecycle`), membership changes in one transaction with the users
they affect (`membership`), select rooms by code (`select`, `codes`), the room trigger's bookkeeping
(`on_written`) and safety net (`reconcile`), and the room's Redis state (`redis_state`)."""
