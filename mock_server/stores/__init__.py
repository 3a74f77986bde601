"""Stores shared between processes: SQLite (one file) and Redis (several hosts).

Both implement the domain's `Store` protocol (mock_server/domain/store.py).
"""
