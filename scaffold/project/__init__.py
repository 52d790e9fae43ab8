"""What the toolkit knows of a generated project: its settings, names and entity specs."""
