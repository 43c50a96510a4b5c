"""docs/PLUGINS.md stays complete: every hook, its exact signature, and a runnable example."""

from __future__ import annotations

import inspect
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from openinfp.core import hookspecs
from openinfp.core.errors import PluginError
from openinfp.core.hookspecs import hookimpl
from openinfp.core.interfaces import RenderSource
from openinfp.core.motion import MotionSequence
from openinfp.core.plugins import call_chain
from openinfp.core.registry import Registry

DOC = Path(__file__).resolve().parents[2] / "docs" / "PLUGINS.md"


def _hook_names() -> list[str]:
    return [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
            if hasattr(fn, f"{hookspecs.PROJECT_NAME}_spec")]


def _documented_signature(fn) -> str:
    """``name(arg: Type, ...) -> Ret`` written as the docs do (no quotes, no module paths)."""
    sig = inspect.signature(fn)
    params = ", ".join(f"{p.name}: {str(p.annotation).strip(chr(39))}" for p in sig.parameters.values())
    ret = str(sig.return_annotation).strip("'")
    return f"{fn.__name__}({params}) -> {ret}"


def _section(text: str, name: str) -> str:
    match = re.search(rf"^### {name}\n(.*?)(?=^#{{2,3}} )", text, flags=re.S | re.M)
    assert match, f"docs/PLUGINS.md has no '### {name}' section"
    return match.group(1)


def test_every_hook_has_a_section_with_its_signature():
    text = DOC.read_text()
    names = _hook_names()
    assert len(names) >= 11
    for name in names:
        section = _section(text, name)
        signature = _documented_signature(getattr(hookspecs, name))
        assert signature in section, f"section {name}: expected signature {signature!r}"
        for needed in ("When called", "How results combine", "Arguments"):
            assert needed in section, f"section {name} does not say {needed!r}"


def test_no_section_documents_a_hook_that_does_not_exist():
    documented = re.findall(r"^### (\w+)$", DOC.read_text(), flags=re.M)
    assert set(documented) == set(_hook_names())


def _example_plugin(monkeypatch) -> types.ModuleType:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    code = max(blocks, key=len)  # the complete example
    module = types.ModuleType("plugin_docs_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look their module up
    exec(compile(code, "docs/PLUGINS.md", "exec"), module.__dict__)
    return module


def test_the_example_plugin_runs(monkeypatch):
    plugin = _example_plugin(monkeypatch)
    registry = Registry.create(autoload=False, extra_plugins=[plugin])
    assert "calm" in registry.choices("conditioners")
    assert "flat" in registry.choices("renderers")

    tokens = registry.conditioner("calm", {"dim": 3}).encode(None, 10)
    assert tokens[0].tokens.shape == (1, 3) and tokens[0].kind == "global"

    space = registry.motion_space("head")
    motion = MotionSequence(space.neutral(6), space, 25.0)
    jaw = space.component_index("arkit", "jawOpen")
    motion.motion[:, jaw] = torch.linspace(0, 1, 6)
    motion.motion[:, space.index("head_translation")] = 0.2

    renderer = registry.renderer("flat", {"size": 8})
    renderer.setup(RenderSource(label="agent"))
    frames = list(renderer.render(motion))
    assert len(frames) == 6 and frames[0].shape == (8, 8, 3)
    assert frames[-1].mean() > frames[0].mean()  # brighter as the mouth opens

    out = call_chain(registry.pm, "post_process_motion", motion, "motion", config=None)
    assert torch.allclose(out.motion[:, space.index("head_translation")], torch.full((6, 3), 0.1))
    assert torch.equal(out.motion[:, jaw], motion.motion[:, jaw])


def test_a_misspelt_hook_is_refused_with_its_name():
    typo = types.ModuleType("typo_plugin")

    @hookimpl
    def register_renderer():  # should be register_renderers
        return []

    typo.register_renderer = register_renderer
    with pytest.raises(PluginError, match="register_renderer"):
        Registry.create(autoload=False, extra_plugins=[typo])


def test_call_chain_goes_through_pluggy_monitoring():
    seen: list[str] = []

    class Doubler:
        @hookimpl
        def post_process_motion(self, motion, config):
            return motion * 2

    registry = Registry.create(autoload=False, extra_plugins=[Doubler(), Doubler()])
    undo = registry.pm.add_hookcall_monitoring(lambda name, impls, kwargs: seen.append(name),
                                               lambda outcome, name, impls, kwargs: None)
    try:
        assert call_chain(registry.pm, "post_process_motion", np.float64(3.0), "motion", config=None) == 12.0
    finally:
        undo()
    assert seen.count("post_process_motion") == 2
