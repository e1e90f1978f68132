"""``python -m services.kinds.wndchrm``: the name ``python -m wndchrm`` had before the engine got its own
package, kept for the scripts and notes that use it. The same program: :mod:`wndchrm.cli.program`."""

import sys

from wndchrm.cli.program import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m services.kinds.wndchrm"))
