"""GC rules of the catalogue (single record)."""
