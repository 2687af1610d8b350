"""``python -m flowscribe``: the ``flowscribe`` command."""

import sys

from flowscribe.cli import main

sys.exit(main())
