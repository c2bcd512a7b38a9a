"""Deterministic test data shapes written to Qdrant through qdrant-client; see datagen.py."""

from tests.datagen.datagen import (  # noqa: F401
    ALL_SHAPES,
    SHAPES,
    collection_name,
    create_collection,
    generate,
    make_points,
)
