"""Benchmarks: each file is a script (`.venv/bin/python bench/<name>.py`); this file makes `bench` a
package so that mypy tells `bench/realtime.py` from the `realtime` service package."""
