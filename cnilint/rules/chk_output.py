"""CHK rules of the catalogue (single record)."""
