"""Tools the local stack needs that a fresh machine may lack, installed on first use."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from deploy.manifest import ROOT
from devstack.errors import StackError

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
    echo("  installing firebase-tools for the Auth emulator (npm ci, about a minute) ...")
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
