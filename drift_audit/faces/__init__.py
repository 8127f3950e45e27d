"""faces: see the README's "How it works"."""
