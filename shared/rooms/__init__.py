"""Rooms: lifecycle (Firestore transactions) and their Redis state."""
