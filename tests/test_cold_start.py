"""Cold start hygiene, asserted on what is imported (never on time: machines are noisy).

A function's `import main` must load no heavy client library: they are created lazily on first use.
And no module of shared/ loads one at import unless it is that client's own module.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from deploy.manifest import ROOT, load_manifest

HEAVY = ("google.cloud.firestore", "google.cloud.pubsub", "sqlalchemy", "google.cloud.sql.connector", "grpc")
CLIENT_MODULES = {
    "shared.clients.firestore": "google.cloud.firestore",
    "shared.clients.pubsub": "google.cloud.pubsub",
    "shared.clients.postgres": "sqlalchemy",
}


def loaded_after_import(module: str, cwd: str | None = None) -> list[str]:
    code = (
        f"import sys, json; import {module}; "
        f"print(json.dumps(sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in {HEAVY!r}))))"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd or ROOT
    )
    assert out.returncode == 0, out.stderr
    return list(json.loads(out.stdout))


@pytest.mark.parametrize("name", list(load_manifest()))
def test_function_import_loads_no_heavy_client(name: str) -> None:
    assert loaded_after_import("main", cwd=str(ROOT / "functions" / name)) == []


def shared_modules() -> list[str]:
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / "shared").rglob("*.py")
        if "__pycache__" not in path.parts
    )


@pytest.mark.parametrize("module", shared_modules())
def test_shared_modules_import_no_client_they_are_not(module: str) -> None:
    heavy = loaded_after_import(module)
    allowed = CLIENT_MODULES.get(module)
    unexpected = [m for m in heavy if not (allowed and (m == allowed or m.startswith(allowed + ".")))]
    assert unexpected == []
