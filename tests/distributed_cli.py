"""Started by tests/test_distributed.py under torchrun: runs gener CLI verbs in one launch
(one torch import per rank instead of one per verb). argv[1] is a JSON list of argument lists."""

import json
import sys

from gener.cli import app

for args in json.loads(sys.argv[1]):
    try:
        app(args, standalone_mode=False)
    except SystemExit as exc:  # typer.Exit from a verb
        if exc.code:
            raise
