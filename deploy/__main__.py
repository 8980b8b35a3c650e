"""python -m deploy package [--out DIR]: one deployable folder + zip per function into build/."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deploy.manifest import ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy")
    commands = parser.add_subparsers(dest="command", required=True)
    pack = commands.add_parser("package", help="build deployable bundles")
    pack.add_argument("--out", default=str(ROOT / "build"))
    args = parser.parse_args(argv)
    from deploy import package

    for path in package.build_all(Path(args.out)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
