"""``python -m fgan_bench``: see :mod:`fgan_bench.cli`."""

import sys

from fgan_bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
