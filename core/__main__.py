"""``python -m core``: see core/cli/ (options, commands, analyze)."""

import os
import sys

from core.cli import main
from core.models import distributed

if distributed.enabled() and not distributed.is_main():
    # one report per training: rank 0 prints it; two ranks writing one pipe interleaved their lines
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
code = main()
if distributed.enabled():
    # under torchrun: leave the process group, then skip the interpreter's teardown, where gloo's
    # threads being destroyed aborted about 1 run in 6 ("terminate called without an active exception")
    sys.stdout.flush()
    sys.stderr.flush()
    distributed.cleanup()
    os._exit(code)
sys.exit(code)
