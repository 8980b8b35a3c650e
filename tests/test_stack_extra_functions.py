"""A function the stack runs although the manifest does not list it (bench/floor_function): served
behind the gateway exactly as the manifest function it is like, and in no deployment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.manifest import ROOT, load_manifest
from devstack.stack import ExtraFunction, Ports, Stack, StackError

FLOOR = ExtraFunction(ROOT / "bench" / "floor_function", entry_point="bench_floor", like="issue_tokens")


def test_an_extra_function_runs_like_its_model_behind_the_gateway(tmp_path: Path) -> None:
    manifest = load_manifest()
    stack = Stack(tmp_path, Ports.free(manifest), extra_functions={"bench_floor": FLOOR}, echo=lambda _: None)
    processes = {process.name: process for process in stack._plan()}

    floor, model = processes["fn:bench_floor"], processes["fn:issue_tokens"]
    assert f"--source={ROOT / 'bench' / 'floor_function' / 'main.py'}" in floor.argv
    assert "--target=bench_floor" in floor.argv and "--signature-type=http" in floor.argv
    assert floor.env["THREADS"] == model.env["THREADS"] == str(manifest["issue_tokens"].concurrency)
    assert floor.env["FUNCTION_TARGET"] == "bench_floor"
    port = stack.ports.functions["bench_floor"]
    assert f"--port={port}" in floor.argv and port not in {
        p for name, p in stack.ports.functions.items() if name != "bench_floor"
    }
    hub = json.loads((tmp_path / "hub.json").read_text())["functions"]
    assert hub["bench_floor"] == {**hub["issue_tokens"], "port": port}

    assert "bench_floor" not in load_manifest()  # nothing deploys it


def test_an_extra_function_cannot_shadow_a_deployed_one(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="shadow"):
        Stack(tmp_path, extra_functions={"issue_tokens": FLOOR}, echo=lambda _: None)


def test_without_extras_the_stack_runs_exactly_the_manifest(tmp_path: Path) -> None:
    stack = Stack(tmp_path, Ports.free(load_manifest()), echo=lambda _: None)
    functions = {process.name for process in stack._plan() if process.name.startswith("fn:")}
    assert functions == {f"fn:{name}" for name in load_manifest()}
