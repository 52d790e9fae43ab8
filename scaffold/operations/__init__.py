"""The operations: create, add, migrations, doctor and runbooks, each a typed engine entry point."""
