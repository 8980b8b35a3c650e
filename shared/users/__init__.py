"""Users: presence mirror and what follows a user going offline."""
