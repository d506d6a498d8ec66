"""CONF rules of the catalogue (single record)."""
