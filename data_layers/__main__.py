"""``python -m data_layers``: see :mod:`data_layers.cli`."""

import sys

from .cli import main

sys.exit(main())
