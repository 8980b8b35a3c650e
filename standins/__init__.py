"""Realistic stand-ins for the third-party APIs the backend calls (unreachable from the local stack):
small servers that speak their HTTP contracts, with scripted faults for tests."""
