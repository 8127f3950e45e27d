"""identity.embedders: see the README's "How it works"."""
