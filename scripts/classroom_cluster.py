#!/usr/bin/env python3
"""Serve a room from several dashboard processes behind nginx: ``make classroom-cluster N=4``.

The work is done by dashboard/cluster.py (its docstring says how a browser stays on one process);
``python scripts/classroom_cluster.py --help`` lists the options.
"""

import sys

from dashboard.cluster import main

if __name__ == "__main__":
    sys.exit(main())
