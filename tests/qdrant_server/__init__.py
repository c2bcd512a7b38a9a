"""Qdrant REST test server on top of the real Qdrant engine (qdrant-edge-py).

See server.py for the implementation and docs/internals/TESTING.md for what it covers.
"""
