"""IPAM rules of the catalogue (single record)."""
