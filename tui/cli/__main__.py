"""`python -m tui.cli`: the same as the `nn-tui` command (textual-serve starts the app this way)."""
import sys

from . import main

sys.exit(main())
