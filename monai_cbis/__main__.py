"""``python -m monai_cbis``: see :mod:`monai_cbis.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
