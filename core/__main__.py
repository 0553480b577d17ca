"""``python -m core``: see core/cli/ (options, commands, analyze)."""

import sys

from core.cli import main

sys.exit(main())
