"""`openinfp animate --framing full|head` reaches the portrait renderer's options."""

from __future__ import annotations

import argparse

import pytest


@pytest.mark.parametrize("framing", ["full", "head"])
def test_framing_flag_reaches_the_portrait_renderer(registry, framing):
    from openinfp.core.config import load_config
    from openinfp.pipeline.cli import _overrides, add_animate_arguments
    from openinfp.pipeline.render import renderer_options

    parser = argparse.ArgumentParser()
    add_animate_arguments(parser)
    args = parser.parse_args(["p.png", "a.wav", "-o", "o.mp4", "--framing", framing])
    cfg = load_config(args.config, _overrides(args), registry=registry)
    assert cfg.output.framing == framing
    assert renderer_options(registry, "portrait", {}, output=cfg.output)["framing"] == framing
