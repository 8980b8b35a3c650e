"""Tokens issued by `issue_tokens`: LiveKit room tokens and WebSocket JWTs."""
