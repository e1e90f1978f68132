"""``python -m wndchrm``: one wndchrm command in this process, no queue (:mod:`wndchrm.cli.program`)."""

import sys

from wndchrm.cli.program import main

if __name__ == "__main__":
    sys.exit(main())
