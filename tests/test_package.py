"""`make package`: each bundle is self-contained, imports in isolation and pins what it imports."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import package
from deploy.manifest import ROOT, load_manifest

MANIFEST = load_manifest()
LOCAL_TOP_LEVEL = {"shared", "main"}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    package.build_all(out)
    return out


def _requirement_closure(requirements: Path) -> set[str]:
    """Distributions named in requirements.txt plus everything they depend on."""
    pending = [
        re.split(r"[=<>\[;]", line.strip())[0]
        for line in requirements.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    closure: set[str] = set()
    while pending:
        name = pending.pop().lower().replace("_", "-")
        if name in closure:
            continue
        closure.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        pending += [re.split(r"[\s=<>!~\[;(]", r)[0] for r in requires if "extra ==" not in r]
    return closure


def _third_party_imports(bundle: Path) -> set[str]:
    local = (
        LOCAL_TOP_LEVEL
        | {p.stem for p in bundle.glob("*.py")}
        | {p.name for p in bundle.iterdir() if p.is_dir()}
    )
    found: set[str] = set()
    for source in bundle.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local and top != "__future__":
                    found.add(name)
    return found


@pytest.mark.parametrize("name", list(MANIFEST))
def test_bundle_imports_in_isolation(bundles: Path, name: str) -> None:
    bundle = bundles / name
    assert (bundles / f"{name}.zip").is_file()
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import main, shared;"
        "print(json.dumps([main.__file__, shared.__file__, callable(getattr(main, sys.argv[2]))]))"
    )
    # -I: no PYTHONPATH, no current directory, no user site: only the bundle and installed packages.
    result = subprocess.run(
        [sys.executable, "-I", "-c", code, str(bundle), MANIFEST[name].entry_point],
        capture_output=True,
        text=True,
        cwd="/",
    )
    assert result.returncode == 0, result.stderr
    main_file, shared_file, has_entry = json.loads(result.stdout)
    assert Path(main_file).is_relative_to(bundle) and Path(shared_file).is_relative_to(bundle)
    assert has_entry


@pytest.mark.parametrize("name", list(MANIFEST))
def test_bundle_requirements_cover_every_import(bundles: Path, name: str) -> None:
    bundle = bundles / name
    closure = _requirement_closure(bundle / "requirements.txt")
    distributions = importlib.metadata.packages_distributions()
    missing = set()
    for module in _third_party_imports(bundle):
        parts = module.split(".")
        # google.* is a namespace: find the most specific installed top-level mapping.
        candidates = distributions.get(parts[0], [])
        owners = {d.lower().replace("_", "-") for d in candidates}
        if parts[0] == "google":
            owners = {d.lower().replace("_", "-") for d in candidates if _distribution_provides(d, parts)}
        if owners and not owners & closure:
            missing.add(f"{module} (from {sorted(owners)})")
    assert not missing, f"{name}: imports not covered by requirements.txt: {sorted(missing)}"


def _distribution_provides(distribution: str, parts: list[str]) -> bool:
    files = importlib.metadata.files(distribution) or []
    prefix = "/".join(parts[:3])
    return any(str(f).startswith(prefix) for f in files)


@pytest.mark.parametrize("name", list(MANIFEST))
def test_bundle_carries_only_the_shared_code_it_needs(bundles: Path, name: str) -> None:
    spec = MANIFEST[name]
    clients = {p.stem for p in (bundles / name / "shared" / "clients").glob("*.py")} - {"__init__"}
    assert clients == set(spec.stores), "exactly the clients of the manifest's stores"


def test_zips_are_reproducible(tmp_path: Path) -> None:
    first = package.build("issue_tokens", tmp_path / "a")
    second = package.build("issue_tokens", tmp_path / "b")
    assert package.md5(first) == package.md5(second)
    assert (ROOT / "functions" / "issue_tokens" / "main.py").read_bytes() == (
        tmp_path / "a" / "issue_tokens" / "main.py"
    ).read_bytes()
