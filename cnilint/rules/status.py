"""STATUS rules of the catalogue (single record)."""
