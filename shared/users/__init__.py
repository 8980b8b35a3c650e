"""Users: the one owner of a user's state (`state`) and the user trigger (`on_written`)."""
