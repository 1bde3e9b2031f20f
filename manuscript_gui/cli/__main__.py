"""``python -m manuscript_gui.cli``: the same as the ``manuscript-cli`` console script."""

import sys

from manuscript_gui.cli import main

sys.exit(main())
