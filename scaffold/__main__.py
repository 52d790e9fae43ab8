"""`python -m scaffold` runs the same program as the `robyn-config` console script."""

from scaffold.cli.program import program

program.run(["robyn-config", *__import__("sys").argv[1:]])
