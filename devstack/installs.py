"""Tools the local stack needs that a fresh machine may lack, installed on first use.

Standard library only: `make dev` and `make test` run `python3 -m devstack.installs ...` with the
system Python, side by side with the virtualenvs' pip installs, because on a fresh machine the npm
installs take longer than those (`npm ci` of firebase-tools alone about 1.5 minutes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from devstack.errors import StackError

ROOT = Path(__file__).resolve().parent.parent  # deploy.manifest's ROOT, without its yaml import
NODE_DIR = ROOT / "devstack" / "node"


class InstallError(StackError):
    pass


def ensure_redis_server() -> None:
    if shutil.which("redis-server"):
        return
    if os.geteuid() != 0:
        raise InstallError("redis-server is not installed: run `sudo apt-get install -y redis-server`")
    print("installing redis-server with apt-get ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "redis-server"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def ensure_node_modules(echo: Callable[[str], None] = print) -> Path:
    """firebase-tools (for the Auth emulator) installed from devstack/node's lock file into .dev/node."""
    target = ROOT / ".dev" / "node"
    binary = target / "node_modules" / ".bin" / "firebase"
    lock = NODE_DIR / "package-lock.json"
    stamp = target / ".installed-lock"
    if binary.exists() and stamp.exists() and stamp.read_text() == lock.read_text():
        return target
    if not shutil.which("npm"):
        raise InstallError("npm is needed for the Firebase Auth emulator: install Node.js 20+ and npm")
    echo("  installing firebase-tools for the Auth emulator (npm ci, about 1.5 minutes) ...")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(NODE_DIR / "package.json", target / "package.json")
    shutil.copy(lock, target / "package-lock.json")
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=target,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    stamp.write_text(lock.read_text())
    return target


def ensure_npm_package(folder: Path, echo: Callable[[str], None] = print) -> Path:
    """`npm ci` of a package of the repository (clients/web, examples/web, its e2e runner) into its
    own node_modules, once per version of its lock file. A stamp inside node_modules records the lock
    it was installed from (deleting node_modules deletes the stamp too); a file lock keeps a test run
    and `make dev` from installing into the same folder at once."""
    import fcntl
    import hashlib

    lock = folder / "package-lock.json"
    wanted = hashlib.sha256(lock.read_bytes() + (folder / "package.json").read_bytes()).hexdigest()
    stamp = folder / "node_modules" / ".vchat-installed"
    if stamp.exists() and stamp.read_text() == wanted:
        return folder / "node_modules"
    if not shutil.which("npm"):
        raise InstallError(f"npm is needed for {folder.relative_to(ROOT)}: install Node.js 20+ and npm")
    guard = ROOT / ".dev" / "locks" / (str(folder.relative_to(ROOT)).replace("/", "_") + ".lock")
    guard.parent.mkdir(parents=True, exist_ok=True)
    with open(guard, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == wanted:  # installed while we waited
            return folder / "node_modules"
        echo(f"  installing {folder.relative_to(ROOT)} (npm ci) ...")
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"],
            cwd=folder,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise InstallError(f"npm ci in {folder.relative_to(ROOT)} failed:\n{result.stderr[-2000:]}")
        stamp.write_text(wanted)
    return folder / "node_modules"


CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium(echo: Callable[[str], None] = print) -> Path:
    """Debian's Chromium for the browser test (playwright-core drives it; Playwright's own browser
    download does not work on this network). Installed with apt when missing and root, like redis."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0:
        raise InstallError("chromium is not installed: run `sudo apt-get install -y chromium`")
    echo("  installing chromium with apt-get (once, a few minutes) ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return CHROMIUM


def installer(name: str, echo: Callable[[str], None] = print) -> Callable[[], object]:
    """What installs `name`: `redis-server`, `chromium`, `firebase-tools`, or a package folder of
    the repository (`examples/web`)."""
    named: dict[str, Callable[[], object]] = {
        "redis-server": ensure_redis_server,
        "chromium": lambda: ensure_chromium(echo),
        "firebase-tools": lambda: ensure_node_modules(echo),
    }
    if name in named:
        return named[name]
    if (ROOT / name / "package-lock.json").is_file():
        return lambda: ensure_npm_package(ROOT / name, echo)
    raise InstallError(f"nothing to install called {name!r}")


def install(names: list[str], echo: Callable[[str], None] = print) -> None:
    """Each named tool, in order (apt-get runs one at a time); every name is checked first."""
    for step in [installer(name, echo) for name in names]:
        step()


if __name__ == "__main__":
    try:
        install(sys.argv[1:])
    except (StackError, subprocess.CalledProcessError) as error:
        sys.exit(f"devstack.installs: {error}")
