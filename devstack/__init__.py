"""The local stack: real emulators, PostgreSQL, Redis and one functions-framework process per function."""
