"""`make package`: one deployable source folder and zip per function of the manifest.

Cloud Functions runs no install step for local packages, so each bundle carries its own copy of the
`shared/` modules its code imports (found by following `shared.*` imports in the source, including
imports inside functions), plus its pinned requirements.txt. Zips are byte-for-byte reproducible
(sorted entries, fixed timestamps), so their md5 changes only when the code does and Terraform
redeploys only the functions that changed.
"""

from __future__ import annotations

import ast
import hashlib
import shutil
import zipfile
from pathlib import Path

from deploy.manifest import ROOT, load_manifest

SHARED = ROOT / "shared"
FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def _imported_shared_modules(path: Path) -> set[str]:
    """Dotted names of `shared.*` modules imported anywhere in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "shared")
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.split(".")[0] == "shared"
        ):
            found.add(node.module)
            # `from shared import log` imports the module shared.log
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _module_file(dotted: str) -> Path | None:
    relative = Path(*dotted.split("."))
    for candidate in (ROOT / relative.with_suffix(".py"), ROOT / relative / "__init__.py"):
        if candidate.exists():
            return candidate
    return None  # a name imported from a module, not a module itself


def shared_files_for(function_dir: Path, stores: tuple[str, ...] = ()) -> list[Path]:
    """Every file under shared/ that the function's code needs, with its packages' __init__.py.

    `stores` adds `shared/clients/<store>.py`: /healthz imports them by name, invisible to the scan.
    """
    needed: set[Path] = set()
    queue = [p for p in function_dir.rglob("*.py") if "__pycache__" not in p.parts]
    queue += [SHARED / "clients" / f"{store}.py" for store in stores]
    queue += [SHARED / "clients" / "__init__.py"] if stores else []
    seen: set[Path] = set()
    while queue:
        source = queue.pop()
        if source in seen:
            continue
        seen.add(source)
        if source.is_relative_to(SHARED):
            needed.add(source)
        for dotted in _imported_shared_modules(source):
            module = _module_file(dotted)
            if module is None:
                continue
            needed.add(module)
            queue.append(module)
            parent = module.parent
            while parent != ROOT and parent.is_relative_to(SHARED):
                init = parent / "__init__.py"
                if init.exists() and init not in needed:
                    needed.add(init)
                    queue.append(init)
                parent = parent.parent
    # Non-Python data next to shared modules (e.g. Lua scripts) travels with its package.
    for module in list(needed):
        for data in module.parent.glob("*"):
            if data.is_file() and data.suffix not in (".py", ".pyc"):
                needed.add(data)
    return sorted(needed)


def build(name: str, out_dir: Path) -> Path:
    spec = load_manifest()[name]
    bundle = out_dir / name
    shutil.rmtree(bundle, ignore_errors=True)
    bundle.mkdir(parents=True)
    for source in sorted(spec.source_dir.rglob("*")):
        if source.is_file() and "__pycache__" not in source.parts:
            target = bundle / source.relative_to(spec.source_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for source in shared_files_for(spec.source_dir, spec.stores):
        target = bundle / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    if not (bundle / "requirements.txt").exists():
        raise FileNotFoundError(f"functions/{name}/requirements.txt is missing")
    archive = out_dir / f"{name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(bundle)), FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())
    return archive


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def build_all(out_dir: Path = ROOT / "build") -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [build(name, out_dir) for name in load_manifest()]
