"""ERR rules of the catalogue (single record)."""
