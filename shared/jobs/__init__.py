"""Scheduled jobs (Cloud Scheduler -> Pub/Sub -> function)."""
