"""Output formats: each writes the same data for a different reader."""
