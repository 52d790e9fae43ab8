"""`invoke ...` from a checkout runs the same task namespace as the `robyn-config` script."""

from scaffold.cli.program import report_task_usage_errors
from scaffold.cli.tasks import namespace

# invoke loads this file before it parses the task options: from here on a bad option exits 2
# with one sentence, as it does through the console script.
report_task_usage_errors()

ns = namespace
