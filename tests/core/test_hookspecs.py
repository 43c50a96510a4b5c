"""Every hookspec documents when it is called and how its results combine."""

import inspect

import pytest

from openinfp.core import hookspecs


def _specs():
    return [
        (name, fn) for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, f"{hookspecs.PROJECT_NAME}_spec")
    ]


def test_there_are_hookspecs_for_every_stage():
    names = {name for name, _ in _specs()}
    expected = {"register_conditioners", "register_motion_spaces", "register_renderers", "register_guiders",
                "register_dataset_formats", "register_cli_commands", "post_process_motion"}
    assert expected <= names


@pytest.mark.parametrize("name, fn", _specs())
def test_hookspec_docstring_states_when_and_how(name, fn):
    doc = inspect.getdoc(fn) or ""
    assert "When called:" in doc, f"hookspec {name} does not say when it is called"
    assert "How results combine:" in doc, f"hookspec {name} does not say how results combine"
