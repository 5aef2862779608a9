"""``python -m fgan_bench``: see :mod:`fgan_bench.cli`.

Before this runs, importing the package has already removed the working directory that
``python -m`` puts first on ``sys.path`` (:mod:`fgan_bench._isolation`), so nothing is
imported implicitly from where the command is run.
"""

import sys

from fgan_bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
