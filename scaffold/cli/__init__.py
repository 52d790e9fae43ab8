"""The command-line edge: console script, tasks, invoke parser patches, console reporter."""
