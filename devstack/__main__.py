"""Command line of the local stack.

python -m devstack up        start everything, print endpoints, load demo data, wait for Ctrl-C
python -m devstack token UID print an ID token for a demo user (signs in through the Auth emulator)
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

from deploy.manifest import ROOT

if TYPE_CHECKING:
    from devstack.stack import Stack

STATE_DIR = ROOT / ".dev"


def _up(args: argparse.Namespace) -> int:
    from devstack import demo
    from devstack.stack import Stack, StackError

    stack = Stack(STATE_DIR, scheduler_auto=not args.no_scheduler)
    stopped = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print("Starting the V-Chat local stack ...", flush=True)
    started = time.perf_counter()
    try:
        stack.start()
    except StackError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"All services ready in {time.perf_counter() - started:.1f}s", flush=True)
        if not args.no_demo:
            demo.load(stack)
        info = stack.info()
        if not args.no_web_app:
            info["webAppUrl"] = _start_web_app(stack)
        print(demo.banner(stack, info), flush=True)
        while not stopped.wait(1.0):
            dead = stack.supervisor.dead()
            if dead:
                print(
                    f"\nerror: {', '.join(dead)} stopped unexpectedly; logs in {stack.logs_dir}",
                    file=sys.stderr,
                )
                for name in dead:
                    print(stack.tail(name), file=sys.stderr)
                return 1
    finally:
        print("\nStopping ...", flush=True)
        stack.stop()
        print("Stopped; no process left behind.", flush=True)
    return 0


def _start_web_app(stack: Stack) -> str | None:
    """The reference web app; the backend stays up without it (an npm install that failed offline)."""
    from devstack import webapp
    from devstack.stack import StackError

    try:
        return webapp.start(stack)
    except StackError as exc:
        print(f"\nwarning: the web app did not start ({exc}); the backend runs without it", file=sys.stderr)
        return None


def _token(args: argparse.Namespace) -> int:
    from devstack import demo

    info = json.loads((STATE_DIR / "stack.json").read_text())
    print(demo.id_token(info, args.user, staff=args.staff))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the local stack")
    up.add_argument("--no-demo", action="store_true", help="do not load demo data")
    up.add_argument("--no-scheduler", action="store_true", help="do not fire cron schedules automatically")
    up.add_argument(
        "--no-web-app", action="store_true", help="do not start the reference web app (examples/web)"
    )
    up.set_defaults(run=_up)
    token = commands.add_parser("token", help="print an ID token of a demo user")
    token.add_argument("user", nargs="?", default="alice", help="demo user name (alice, bob, carol, staff)")
    token.add_argument("--staff", action="store_true", help="give the user the staff claim")
    token.set_defaults(run=_token)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
