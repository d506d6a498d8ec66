"""VER rules of the catalogue (single record)."""
