"""The TypeScript side a frontend developer uses: clients/web (@vchat/client) and examples/web.

- The types in clients/web/src/generated/ are what openapi-typescript makes of docs/openapi/*.yaml
  now: regenerated into a temporary folder and compared file by file, so a document changed without
  `npm run generate` fails here with the diff.
- `tsc --noEmit` (strict) over the client, its compile-time checks (test/types.ts: wrong calls must
  not compile) and the reference web app; the app's production build.
- The client's runtime behaviour (errors, Retry-After) with `node --test`.
Each package is installed with `npm ci` from its lock file on first use (devstack/installs.py).
"""

from __future__ import annotations

import difflib
import json
import subprocess
from pathlib import Path

import pytest

from deploy.manifest import ROOT
from devstack import installs

CLIENT = ROOT / "clients" / "web"
WEB_APP = ROOT / "examples" / "web"
DOCUMENTS = ROOT / "docs" / "openapi"


def run(argv: list[str], cwd: Path, timeout_s: float = 180) -> str:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    assert result.returncode == 0, (
        f"{' '.join(argv)} in {cwd}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def client_bin() -> Path:
    return installs.ensure_npm_package(CLIENT, echo=lambda line: None) / ".bin"


def test_generated_types_are_what_the_documents_say(client_bin: Path, tmp_path: Path) -> None:
    run(["node", "scripts/generate.mjs", str(tmp_path)], CLIENT)
    committed_dir = CLIENT / "src" / "generated"
    fresh = {path.name: path.read_text() for path in tmp_path.glob("*.ts")}
    committed = {path.name: path.read_text() for path in committed_dir.glob("*.ts")}
    assert set(fresh) == {f"{path.stem}.ts" for path in DOCUMENTS.glob("*.yaml")}
    assert set(committed) == set(fresh), (
        f"clients/web/src/generated/ holds {sorted(committed)}, the documents make {sorted(fresh)}: "
        "run `npm run generate` in clients/web"
    )
    for name in sorted(fresh):
        if committed[name] != fresh[name]:
            diff = "".join(
                list(
                    difflib.unified_diff(
                        committed[name].splitlines(keepends=True),
                        fresh[name].splitlines(keepends=True),
                        f"committed/{name}",
                        f"regenerated/{name}",
                    )
                )[:60]
            )
            pytest.fail(
                f"clients/web/src/generated/{name} is not what docs/openapi/{name[:-3]}.yaml makes now; "
                f"run `npm run generate` in clients/web and commit the result.\n{diff}"
            )


def test_the_client_type_checks(client_bin: Path) -> None:
    # src alone (no Node types: the package must run in a browser), then with its tests, whose
    # @ts-expect-error lines prove that wrong calls do not compile.
    run([str(client_bin / "tsc"), "--noEmit", "-p", "tsconfig.json"], CLIENT)
    run([str(client_bin / "tsc"), "--noEmit", "-p", "tsconfig.test.json"], CLIENT)


def test_the_client_behaves(client_bin: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    run([str(client_bin / "tsc"), "-p", "tsconfig.test.json", "--outDir", str(out)], CLIENT)
    (out / "package.json").write_text(json.dumps({"type": "module"}))
    output = run(["node", "--test", str(out / "test" / "client.test.js")], CLIENT)
    assert "# fail 0" in output, output


@pytest.fixture(scope="module")
def web_app_bin() -> Path:
    return installs.ensure_npm_package(WEB_APP, echo=lambda line: None) / ".bin"


def test_the_web_app_type_checks(web_app_bin: Path) -> None:
    # The app (browser code, with @vchat/client from source) and its Vite config (Node code).
    run([str(web_app_bin / "tsc"), "--noEmit", "-p", "tsconfig.json"], WEB_APP)
    run([str(web_app_bin / "tsc"), "--noEmit", "-p", "tsconfig.node.json"], WEB_APP)


def test_the_web_app_builds(web_app_bin: Path, tmp_path: Path) -> None:
    # What a deployment ships: one production bundle (config.json is added beside it per environment).
    run([str(web_app_bin / "vite"), "build", "--outDir", str(tmp_path / "dist"), "--emptyOutDir"], WEB_APP)
    assert (tmp_path / "dist" / "index.html").exists()
    assert list((tmp_path / "dist" / "assets").glob("*.js"))
