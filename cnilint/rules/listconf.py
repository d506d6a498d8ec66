"""LIST: rules that need the network configuration list."""
