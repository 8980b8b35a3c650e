"""devstack/installs.py, which `make dev` and `make test` run with the system Python, side by side
with the virtualenvs' pip installs."""

from __future__ import annotations

import re
import subprocess
import sys

from deploy.manifest import ROOT
from devstack import installs


def test_it_runs_with_the_standard_library_alone() -> None:
    # -S: no site-packages, as the system Python of a fresh machine; a third-party import fails here.
    result = subprocess.run(
        [sys.executable, "-S", "-m", "devstack.installs", "no-such-tool"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result
    assert "nothing to install called 'no-such-tool'" in result.stderr


def test_every_tool_the_makefile_names_can_be_installed() -> None:
    makefile = (ROOT / "Makefile").read_text()
    lists = dict(re.findall(r"^(DEV_TOOLS|TEST_TOOLS) := (.*)$", makefile, re.M))
    names = lists["TEST_TOOLS"].replace("$(DEV_TOOLS)", lists["DEV_TOOLS"]).split()
    assert {"firebase-tools", "examples/web", "clients/web", "examples/web/e2e", "chromium"} <= set(names)
    for name in names:
        installs.installer(name)  # raises for a name nothing installs
