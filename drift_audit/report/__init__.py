"""Report renderers: terminal (rich) and JSON (with its schema)."""
