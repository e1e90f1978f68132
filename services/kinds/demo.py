"""``demo``: a small generic job kind for examples, tests and benchmarks. It only touches the data root.

    demo fanout N DIR [--sleep S] [--fail I,J] [--expand-sleep S] [--run-sleep S] [--noop]
        a parent with N dependencies, each writing DIR/part-<i>.txt; the parent checks every part is
        there, appends one line to DIR/parent-starts.log and writes DIR/result.txt
    demo write PATH TEXT [--sleep S]     write TEXT to PATH (atomically)
    demo sleep SECONDS                   sleep
    demo fail MESSAGE                    always fail
    demo require PATH                    fail until PATH exists (for retry)
    demo noop                            do nothing (throughput benchmarks)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from depqueue import BadJob, DepQueue
from services.kinds import JobContext


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise BadJob(f"demo: {message}")


def _parser() -> _Parser:
    parser = _Parser(prog="demo", add_help=False)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    fanout = sub.add_parser("fanout", add_help=False)
    fanout.add_argument("n", type=int)
    fanout.add_argument("dir")
    fanout.add_argument("--sleep", type=float, default=0.0)
    fanout.add_argument("--fail", default="")
    fanout.add_argument("--expand-sleep", type=float, default=0.0)
    fanout.add_argument("--run-sleep", type=float, default=0.0)
    fanout.add_argument("--noop", action="store_true", help="dependencies do nothing (benchmarks)")
    write = sub.add_parser("write", add_help=False)
    write.add_argument("path")
    write.add_argument("text")
    write.add_argument("--sleep", type=float, default=0.0)
    sleep = sub.add_parser("sleep", add_help=False)
    sleep.add_argument("seconds", type=float)
    fail = sub.add_parser("fail", add_help=False)
    fail.add_argument("message")
    sub.add_parser("noop", add_help=False)
    require = sub.add_parser("require", add_help=False)
    require.add_argument("path")
    return parser


PARSER = _parser()


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class DemoKind:
    name = "demo"

    def _parse(self, argv: list[str], ctx: JobContext) -> argparse.Namespace:
        args = PARSER.parse_args(argv[1:])
        if args.command == "fanout":
            if not 0 <= args.n <= 1_000_000:
                raise BadJob("demo fanout: N must be between 0 and 1000000")
            args.dir = ctx.confine(args.dir)
            try:
                args.fail = {int(i) for i in args.fail.split(",") if i}
            except ValueError:
                raise BadJob(f"demo fanout: --fail takes part numbers, not {args.fail!r}") from None
        elif args.command in ("write", "require"):
            args.path = ctx.confine(args.path)
        for name in ("sleep", "seconds", "expand_sleep", "run_sleep"):
            if getattr(args, name, 0) < 0:
                raise BadJob(f"demo {args.command}: --{name.replace('_', '-')} must not be negative")
        return args

    def validate(self, argv: list[str], ctx: JobContext) -> None:
        self._parse(argv, ctx)

    def expand(self, queue: DepQueue, dep_tube: str, job_id: int, argv: list[str], ctx: JobContext) -> int:
        args = self._parse(argv, ctx)
        if args.command != "fanout":
            return 0
        for i in range(args.n):
            if args.noop:
                queue.add_dependent_job(dep_tube, ["demo", "noop"])
            elif i in args.fail:
                queue.add_dependent_job(dep_tube, ["demo", "fail", f"part {i} fails on purpose"])
            else:
                part = str(args.dir / f"part-{i}.txt")
                queue.add_dependent_job(dep_tube, ["demo", "write", part, str(i), "--sleep", str(args.sleep)])
            if args.expand_sleep:
                time.sleep(args.expand_sleep / max(1, args.n))
        return int(args.n)

    def run(self, queue: DepQueue, job_id: int, argv: list[str], ctx: JobContext) -> None:
        args = self._parse(argv, ctx)
        if args.command == "fanout":
            args.dir.mkdir(parents=True, exist_ok=True)
            with open(args.dir / "parent-starts.log", "a") as starts:
                starts.write(f"{job_id} {os.getpid()} {time.time():.6f}\n")
            expected = [] if args.noop else [i for i in range(args.n) if i not in args.fail]
            missing = [i for i in expected if not (args.dir / f"part-{i}.txt").exists()]
            if missing:
                raise RuntimeError(f"parts {missing[:10]} missing: dependencies did not run before the parent")
            time.sleep(args.run_sleep)
            write_atomic(args.dir / "result.txt", f"{args.n - len(args.fail)} parts\n")
        elif args.command == "write":
            time.sleep(args.sleep)
            write_atomic(args.path, args.text)
        elif args.command == "sleep":
            time.sleep(args.seconds)
        elif args.command == "fail":
            raise RuntimeError(args.message)
        elif args.command == "require" and not args.path.exists():
            raise RuntimeError(f"{args.path} does not exist yet")


DEMO = DemoKind()
