"""Run a wndchrm command in this process, without a queue: ``python -m wndchrm``.

    python -m wndchrm --data-root /data check [options] DATASET
    python -m wndchrm --data-root /data test -n5 textures

``check`` prints the images still needing features, one data-root-relative path a line and nothing else
on stdout (logs go to stderr); other commands compute missing features here and write their outputs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from depqueue import BadJob, RetryLater
from wndchrm.cli import runner
from wndchrm.cli.commands import parse_job
from wndchrm.cli.support import check_supported
from wndchrm.dataroot import JobContext


def main(args: list[str] | None = None, prog: str = "python -m wndchrm") -> int:
    """Run the command in ``args`` (default: ``sys.argv``); ``prog`` is the name its usage shows."""
    parser = argparse.ArgumentParser(prog=prog, description=(__doc__ or "").replace("python -m wndchrm", prog),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, default=Path.cwd(), help="folder every path must stay in")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="COMMAND [options] ARGS...")
    parsed = parser.parse_args(args)
    logging.basicConfig(level=logging.INFO if parsed.verbose else logging.WARNING, stream=sys.stderr)
    ctx = JobContext(parsed.data_root.resolve())
    argv = ["wndchrm", *parsed.command]
    try:
        job = parse_job(argv, ctx)
        check_supported(job.options)  # the built-in engine runs here: refuse what it cannot honour
        if job.command.name == "check":
            for path in runner.check_list(job, ctx):
                print(path)
        else:
            runner.run(job, ctx, argv)
    except (BadJob, RetryLater) as exc:
        print(f"wndchrm: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `... check DATASET | head`: the reader left; that is not an error of ours.
        sys.stderr.close()
        return 0
    return 0
