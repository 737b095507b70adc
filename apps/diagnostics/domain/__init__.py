"""Pure diagnostics math (placeholder docstring)."""
