"""``python -m bench.faults [--quick]``: see :mod:`bench.faults`."""

import sys

from bench.faults.suite import main

if __name__ == "__main__":
    sys.exit(main())
