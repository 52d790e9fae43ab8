"""Tools the toolkit drives: git, the package managers, subprocess plumbing."""
