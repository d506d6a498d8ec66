"""RES rules of the catalogue (single record)."""
