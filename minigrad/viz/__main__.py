"""``python -m minigrad.viz --example NAME --out FILE.svg|.png|.dot``; ``--list`` names the
examples; ``--all DIR`` writes every example as DIR/NAME.svg."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .examples import EXAMPLES, render_example


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minigrad.viz", description=__doc__)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--list", action="store_true", help="name the examples and exit")
    what.add_argument("--example", choices=list(EXAMPLES), help="the example to draw")
    what.add_argument("--all", metavar="DIR", type=Path, help="write every example to DIR/NAME.svg")
    parser.add_argument("--out", type=Path, help="with --example: FILE.svg, FILE.png or FILE.dot")
    return parser


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        for name, build in EXAMPLES.items():
            summary = " ".join(build.__doc__.split()).split(". ")[0].rstrip(".")
            print(f"{name:24s} {summary}")
        return 0
    if args.example and args.out is None:
        parser.error("--example needs --out FILE.svg|.png|.dot")
    jobs = [(args.example, args.out)] if args.example else [
        (name, args.all / f"{name}.svg") for name in EXAMPLES]
    try:
        for name, path in jobs:
            print(f"wrote {render_example(name, path)}")
    except (RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
