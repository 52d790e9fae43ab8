"""The toolkit's own tests (unit, in-process generation, CLI and end-to-end)."""
