"""The MCP adapters: thin translations from MCP requests to domain calls. Only this package and
``app.py`` import the MCP SDK."""
