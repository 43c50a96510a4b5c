import numpy as np
import pytest

from openinfp.body.bench import bench_body, bench_motion, results_dicts, results_markdown
from openinfp.body.convert import neutral_smplx_motion
from openinfp.core.errors import ConfigError
from openinfp.core.interfaces import Renderer, RenderSource


def test_body_renderers_are_registered_and_built_from_options(registry, smplx_model_dir):
    for name in ("skeleton", "anny", "smplx"):
        spec = registry.spec("renderers", name)
        assert spec.motion_spaces == ("smplx",)
        assert spec.resolve_options({"camera": "face"})["camera"] == "face"
    with pytest.raises(ConfigError, match="camera"):
        registry.spec("renderers", "skeleton").resolve_options({"camera": "wide"})
    with pytest.raises(ConfigError, match="unknown config key"):
        registry.spec("renderers", "anny").resolve_options({"colour": "red"})
    r = registry.renderer("skeleton", {"camera": "upper_body", "size": 64})
    assert isinstance(r, Renderer)
    r.setup(RenderSource(label="partner"))
    frames = list(r.render(neutral_smplx_motion(2)))
    assert len(frames) == 2 and frames[0].shape == (64, 64, 3)
    smplx = registry.renderer("smplx", {"model_dir": smplx_model_dir, "size": 64})
    smplx.setup(RenderSource())
    assert next(iter(smplx.render(neutral_smplx_motion(1)))).shape == (64, 64, 3)


def test_bench_reports_speed_per_renderer_and_scene():
    results = bench_body(renderers=("skeleton",), frames=3, size=64)
    assert [r.name for r in results] == ["skeleton 64x64 upper_body", "scene (skeleton x2, facing) 114x64 upper_body"]
    for r in results:
        assert r.fps > 0 and r.cpu_ms_per_frame > 0 and r.frames == 3
    table = results_markdown(results)
    assert table.count("\n") == 3 and "skeleton 64x64" in table
    assert results_dicts(results)[0]["width"] == 64
    motion = bench_motion(10)
    assert motion.num_frames == 10 and np.ptp(motion.get("expression").numpy()) > 0
