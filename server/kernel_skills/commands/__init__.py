"""CLI sub-commands: thin adapters over the domain packages (one module per command)."""
