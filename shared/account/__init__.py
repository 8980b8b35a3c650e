"""The user's account, owned by `account_api`: blocks, reports, suspensions, export and deletion.

What these decide is enforced where the action happens (shared/safety.py): pairing, select rooms,
the queue and the token routes.
"""
