"""`invoke ...` from a checkout runs the same task namespace as the `robyn-config` script."""

from scaffold.commands import namespace

ns = namespace
