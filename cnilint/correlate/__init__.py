"""Relating records across logs: time order, delegation, operations and attachments."""
