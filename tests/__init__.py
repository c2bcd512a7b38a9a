"""Python side of vmigrate's tests: test servers, harness, data generator and checkers.

Python is used only here, never by vmigrate itself. The package exists so that the pieces can be
imported as `tests.harness`, `tests.datagen` and `tests.qdrant_server` from the repository root.
"""
