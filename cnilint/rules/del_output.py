"""DEL rules of the catalogue (single record)."""
