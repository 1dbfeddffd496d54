"""Agent Skills catalog: parse, validate, index, watch. No MCP imports here."""
