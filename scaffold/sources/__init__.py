"""Source edits: libcst transformers for existing files; ruff lays out and checks the result."""
