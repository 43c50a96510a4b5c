"""Layering: core imports no stage package, and openinfp has no import cycles.

``openinfp.core`` holds shared types, errors, rotations, motion spaces, the models and
the plugin machinery; stages (audio, conditioners, head, body, data, pipeline, eval,
provenance, live, plugins, training) build on it and are handed to it by the caller (a registry,
a shard reader, a motion-space lookup), never imported by it.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import openinfp

PACKAGE_ROOT = Path(openinfp.__file__).resolve().parent
STAGES = ("audio", "conditioners", "head", "body", "data", "pipeline", "eval", "provenance", "live", "plugins",
          "training")
#: modules above core that assemble the stages: core must not import them either.
TOP = ("config", "cli", "train_cli")


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE_ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE_ROOT.rglob("*.py"))}


def core_modules() -> list[str]:
    return sorted(m for m in all_modules() if m == "openinfp.core" or m.startswith("openinfp.core."))


def _is_forbidden(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "openinfp" and len(parts) > 1 and parts[1] in STAGES + TOP


def imported_names(node: ast.AST) -> list[str]:
    """Dotted names an import statement may load (``from a import b`` -> ``a``, ``a.b``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return []


def test_core_source_never_imports_a_stage_package():
    """At module level or inside functions: every import statement under openinfp/core."""
    found = []
    for name in core_modules():
        path = all_modules()[name]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            found += [f"{name}:{node.lineno} imports {m}" for m in imported_names(node) if _is_forbidden(m)]
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                found.append(f"{name}:{node.lineno} uses a relative import")
    assert not found, "\n".join(found)


def test_importing_any_core_module_loads_no_stage_package():
    """A fresh interpreter imports each core module in turn; none pulls in a stage."""
    script = (
        "import importlib, json, sys\n"
        f"stages = {STAGES + TOP!r}\n"
        "out = {}\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "    bad = sorted(m for m in sys.modules if m.startswith('openinfp.') and m.split('.')[1] in stages)\n"
        "    if bad:\n"
        "        out[name] = bad\n"
        "        break\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=PACKAGE_ROOT.parent)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded == {}, f"importing a core module loaded stage packages: {loaded}"


def test_training_imports_only_core():
    """The training package gets the corpus reader and the conditioners from its caller
    (``openinfp train``), so it stays usable with any corpus format."""
    found = []
    for name, path in all_modules().items():
        if not name.startswith("openinfp.training"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            found += [f"{name}:{node.lineno} imports {m}" for m in imported_names(node)
                      if m.startswith("openinfp.") and m.split(".")[1] not in ("core", "training")]
    assert found == [] and any(m.startswith("openinfp.training.") for m in all_modules()), found


def _module_level_imports(tree: ast.Module) -> list[ast.AST]:
    """Import statements that run when the module is imported (not in functions or
    classes' methods, not under ``if TYPE_CHECKING``)."""
    found: list[ast.AST] = []

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                found.append(stmt)
            elif isinstance(stmt, ast.If):
                test = ast.unparse(stmt.test)
                if "TYPE_CHECKING" not in test:
                    visit(stmt.body)
                visit(stmt.orelse)
            elif isinstance(stmt, ast.Try):
                visit(stmt.body)
                for handler in stmt.handlers:
                    visit(handler.body)
                visit(stmt.orelse)
                visit(stmt.finalbody)
            elif isinstance(stmt, (ast.With, ast.ClassDef)):
                visit(stmt.body)

    visit(tree.body)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the openinfp modules it imports at module level (packages included:
    importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first; a module's own
    parent packages are already being imported when it runs, so they are no edge)."""
    modules = all_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        for node in _module_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            targets = imported_names(node)
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                mod = f"{base}.{node.module}" if node.module else base
                targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
            for target in targets:
                parts = target.split(".")
                for i in range(1, len(parts) + 1):
                    prefix = ".".join(parts[:i])
                    if prefix in modules and prefix != name and prefix not in ancestors:
                        edges.add(prefix)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle as a list of modules (empty when the graph is acyclic)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = dfs(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = dfs(node)
            if cycle:
                return cycle
    return []


def test_find_cycle_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_at_module_level():
    graph = import_graph()
    assert len(graph) > 100 and "openinfp.core.config" in graph["openinfp.config"]
    cycle = find_cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_loading_motion_files_scans_the_plugins_once(tmp_path, monkeypatch):
    """Without ``spaces=``, motion files use one lazily built default registry."""
    import torch

    from openinfp.core import registry as registry_module
    from openinfp.core.motion import MotionSequence

    registry_module.default_registry.cache_clear()
    built = []
    real_create = registry_module.Registry.create.__func__

    def counting_create(cls, *args, **kwargs):
        built.append(1)
        return real_create(cls, *args, **kwargs)

    monkeypatch.setattr(registry_module.Registry, "create", classmethod(counting_create))
    try:
        space = registry_module.default_registry().motion_space("head")
        path = tmp_path / "m.npz"
        MotionSequence(torch.zeros(3, space.dim), space, 25.0).save(path)
        for _ in range(3):
            assert MotionSequence.load(path).space.name == "head"
        assert len(built) == 1
    finally:
        registry_module.default_registry.cache_clear()


def test_old_import_paths_still_work():
    """Names that moved across layers stay importable where users imported them."""
    import openinfp.config as top
    import openinfp.core.config as core_config
    from openinfp.conditioners.audio import AudioFeatureEncoder as old_encoder
    from openinfp.core.audio_encoder import AudioFeatureEncoder
    from openinfp.core.label import draw_label
    from openinfp.core.watermark import embed_watermark
    from openinfp.provenance.label import draw_label as old_label
    from openinfp.provenance.watermark import embed_watermark as old_embed

    assert core_config.PipelineConfig is top.PipelineConfig
    assert core_config.load_config is top.load_config and core_config.resolve_plugins is top.resolve_plugins
    assert old_encoder is AudioFeatureEncoder and old_label is draw_label and old_embed is embed_watermark
    assert list(core_config.describe_fields()) == list(top.describe_fields())
