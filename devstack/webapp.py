"""The reference web app (examples/web) as one more process of the local stack: Vite's dev server.

`make dev` starts it after the backend is up and prints its URL; the browser test starts it against
the test stack the same way. The app reads where the backend is from /config.json at run time, which
the dev server serves from `<state dir>/webapp.json` (written here from the stack's addresses: only
what a browser needs, none of stack.json's secrets), so nothing is rebuilt per stack.

The functions allow the app's origin through CORS_ALLOWED_ORIGINS, as production allows the deployed
app's (Terraform `cors_allowed_origins`, docs/deploy.md).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploy.manifest import ROOT
from devstack import installs
from devstack.processes import Process, http_ok

if TYPE_CHECKING:
    from devstack.ports import Ports
    from devstack.stack import Stack

WEB_APP_DIR = ROOT / "examples" / "web"
PROCESS = "webapp"
# Vite's own default ports (dev server, `vite preview`), for an app of your own beside the reference one.
VITE_DEFAULT_PORTS = (5173, 4173)


def url(ports: Ports) -> str:
    return f"http://127.0.0.1:{ports.services['webapp']}"


def cors_origins(ports: Ports) -> str:
    """The browser origins the local functions allow: the reference app's and Vite's defaults, on
    both names of the loopback host. VCHAT_CORS_ALLOWED_ORIGINS replaces the list (`*` allows any)."""
    override = os.environ.get("VCHAT_CORS_ALLOWED_ORIGINS")
    if override:
        return override
    port_list = [ports.services["webapp"], *VITE_DEFAULT_PORTS]
    return ",".join(f"http://{host}:{port}" for port in port_list for host in ("127.0.0.1", "localhost"))


def public_config(info: dict[str, Any]) -> dict[str, Any]:
    """/config.json of the app, from stack.json's addresses (examples/web/src/config.ts reads it)."""
    auth_host = info["FIREBASE_AUTH_EMULATOR_HOST"]
    firestore_host, firestore_port = info["FIRESTORE_EMULATOR_HOST"].rsplit(":", 1)
    return {
        # The emulators accept any API key; the project id must be the stack's (ID tokens' audience).
        "firebase": {
            "apiKey": "local-emulator-key",
            "projectId": info["projectId"],
            "authDomain": "localhost",
        },
        "gatewayUrl": info["gatewayUrl"],
        "realtimeUrl": info["realtimeUrl"],
        "emulators": {
            "authUrl": f"http://{auth_host}",
            "firestoreHost": firestore_host,
            "firestorePort": int(firestore_port),
        },
    }


def start(stack: Stack, timeout_s: float = 90.0) -> str:
    """Install the app's packages if needed, write its config, start the dev server, wait until it
    answers, and add `webAppUrl` to stack.json. Stopped with the rest of the stack."""
    installs.ensure_npm_package(WEB_APP_DIR, stack.echo)
    info = stack.info()
    if not info.get("FIREBASE_AUTH_EMULATOR_HOST"):
        raise installs.InstallError("the web app needs the Auth emulator (a stack started with_auth)")
    config_path = stack.state_dir / "webapp.json"
    config_path.write_text(json.dumps(public_config(info), indent=2) + "\n")
    address = url(stack.ports)
    port = stack.ports.services["webapp"]
    process = Process(
        PROCESS,
        [
            str(WEB_APP_DIR / "node_modules" / ".bin" / "vite"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--strictPort",
            "--clearScreen",
            "false",
        ],
        # Ready when the page and its config both answer (the config proves the plugin is loaded).
        http_ok(f"{address}/config.json", lambda status: status == 200),
        env={**os.environ, "VCHAT_WEBAPP_CONFIG": str(config_path), "BROWSER": "none", "NO_COLOR": "1"},
        cwd=WEB_APP_DIR,
    )
    stack.supervisor.launch(process)
    _wait_ready(stack, process, timeout_s)
    _add_to_stack_json(stack.state_dir / "stack.json", address)
    return address


def _wait_ready(stack: Stack, process: Process, timeout_s: float) -> None:
    import time

    from devstack.processes import ProcessError

    deadline = time.perf_counter() + timeout_s
    while not process.ready():
        assert process.popen is not None
        if process.popen.poll() is not None:
            raise ProcessError(f"the web app exited while starting:\n{stack.tail(PROCESS)}")
        if time.perf_counter() > deadline:
            raise ProcessError(f"the web app did not answer within {timeout_s:.0f}s:\n{stack.tail(PROCESS)}")
        time.sleep(0.1)
    process.ready_after_s = time.perf_counter() - process.started_at
    stack.echo(f"  ready  {PROCESS:<22} {process.ready_after_s:5.1f}s")


def _add_to_stack_json(path: Path, address: str) -> None:
    info = json.loads(path.read_text()) if path.exists() else {}
    info["webAppUrl"] = address
    path.write_text(json.dumps(info, indent=2) + "\n")
