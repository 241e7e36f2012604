"""`python -m pytrace` is the same as the `pytrace` command."""

import sys

from pytrace.cli import main

sys.exit(main())
