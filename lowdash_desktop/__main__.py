"""`python -m lowdash_desktop`."""

import sys

from .cli import main

sys.exit(main())
