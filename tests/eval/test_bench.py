"""`openinfp bench`: statistics, stage registry, unavailable stages, real stages that exist."""

from __future__ import annotations

import importlib.util
import json
import sys
import types

import pytest

from openinfp.cli import main
from openinfp.eval.bench import BenchContext, BenchSettings, BenchStage, StageResult, StageUnavailable
from openinfp.eval.bench.core import run_stage
from openinfp.eval.bench.runner import BenchReport, machine_info, run_bench


def test_stage_result_statistics():
    r = StageResult("x", "frame", times_s=[0.5, 0.3, 0.4], units_per_run=10, real_time_units=25.0)
    assert r.median_s == pytest.approx(0.4)
    assert r.per_unit_ms == pytest.approx(40.0)
    assert r.spread_ms == pytest.approx((30.0, 50.0))
    assert r.units_per_s == pytest.approx(25.0)
    # 10 frames at 25 fps cover 0.4 s of real time, computed in 0.4 s: real time.
    assert r.real_time_factor == pytest.approx(1.0)
    d = r.to_dict()
    assert d["per_unit_ms"] == pytest.approx(40.0) and d["status"] == "ok"


def _ctx(**kw):
    return BenchContext(BenchSettings(runs=3, warmup=1, **kw))


def test_run_stage_times_runs_and_reports_unavailable_and_failed():
    calls = []

    def ok_prepare(ctx):
        def run():
            calls.append(1)
            return 5
        return run

    ok = run_stage(BenchStage("ok", "frame", ok_prepare, real_time_units=lambda c: 25.0), _ctx())
    assert ok.status == "ok" and len(ok.times_s) == 3 and len(calls) == 4  # 1 warm-up + 3 timed
    assert ok.cold_s is not None and ok.units_per_run == 5 and ok.real_time_units == 25.0
    assert len(ok.cpu_s) == 3 and ok.cpu_per_unit_ms is not None

    def missing(ctx):
        import openinfp_module_that_does_not_exist  # noqa: F401
    gone = run_stage(BenchStage("gone", "frame", missing), _ctx())
    assert gone.status == "unavailable" and "ModuleNotFoundError" in gone.reason

    def unavailable(ctx):
        raise StageUnavailable("no renderer is registered")
    un = run_stage(BenchStage("un", "frame", unavailable), _ctx())
    assert un.status == "unavailable" and "no renderer" in un.reason and un.times_s == []

    def broken(ctx):
        def run():
            raise RuntimeError("boom")
        return run
    bad = run_stage(BenchStage("bad", "frame", broken), _ctx())
    assert bad.status == "failed" and "boom" in bad.reason


def test_plugin_modules_contribute_stages(monkeypatch):
    from openinfp.eval.bench import stages

    fake = types.ModuleType("fake_openinfp_bench")

    def prepare(ctx):
        return lambda: 1
    fake.bench_stages = lambda: [BenchStage("fake stage", "frame", prepare)]
    monkeypatch.setitem(sys.modules, "fake_openinfp_bench", fake)
    monkeypatch.setattr(stages, "PLUGIN_BENCH_MODULES", ("fake_openinfp_bench", "openinfp.no_such_bench"))
    found, skipped = stages.plugin_stages()
    assert [s.name for s in found] == ["fake stage"]
    assert skipped == {"openinfp.no_such_bench": "not present"}


def test_markdown_summary_has_real_time_factor_and_encode_ratio():
    settings = BenchSettings(clip_seconds=10.0)
    e2e = StageResult("end-to-end", "audio s", times_s=[20.0, 22.0, 21.0], cold_s=30.0, units_per_run=10.0,
                      real_time_units=1.0)
    enc = StageResult("video encoding", "frame", times_s=[3.0, 3.5, 4.0], units_per_run=250, real_time_units=25.0)
    gone = StageResult("renderer:*", "frame", status="unavailable", reason="StageUnavailable: no renderer")
    report = BenchReport(settings, machine_info(), [e2e, enc, gone], {"openinfp.head.bench": "not present"}, 5.0)
    sm = report.summary()
    assert sm["real_time_factor"] == pytest.approx(2.1)
    assert sm["ratio_to_encode_floor"] == pytest.approx(21.0 / 3.5)
    text = report.markdown()
    assert "| renderer:* | frame | – | – | – | – | – | unavailable (StageUnavailable: no renderer) |" in text
    assert "6x the encoding floor" in text and "real-time factor 2.1" in text
    assert "cores" in text and "openinfp.head.bench: not present" in text
    json.dumps(report.to_dict())


def _present(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def test_real_stages_that_exist_run(tmp_path):
    """Every built-in stage on a tiny clip: stages whose code exists must time, not fail."""
    settings = BenchSettings(clip_seconds=2.0, runs=1, warmup=0, frames=3, size=256,
                             stages=("audio features", "tracking", "renderer", "scene:skeleton", "video encoding"))
    report = run_bench(settings)
    by_name = {r.name: r for r in report.results}
    for r in report.results:
        assert r.status != "failed", f"{r.name}: {r.reason} {r.notes}"
    enc = by_name["video encoding"]
    assert enc.status == "ok" and enc.units_per_run == 50 and enc.per_unit_ms > 0
    if _present("openinfp.head.tracker"):
        assert by_name["tracking"].status == "ok" and by_name["tracking"].units_per_run == 3
        assert any("face found in 100%" in n for n in by_name["tracking"].notes)
    else:
        assert by_name["tracking"].status == "unavailable"
    renderers = {r.name: r for r in report.results if r.name.startswith("renderer")}
    assert renderers
    for name, r in renderers.items():
        # Renderers that need files the user must supply (SMPL-X) are unavailable, not failed.
        assert r.status == "ok" or (r.status == "unavailable" and r.reason), (name, r.reason)
        if r.status == "ok":
            assert r.units_per_run == 3 and any("setup" in n for n in r.notes)
    for name in ("renderer:portrait", "renderer:skeleton"):  # need no files at all
        if name in renderers:
            assert renderers[name].status == "ok"
    if "scene:skeleton" in by_name:
        assert by_name["scene:skeleton"].status == "ok" and by_name["scene:skeleton"].units_per_run == 3


def test_bench_cli_writes_json_and_prints_table(tmp_path, capsys):
    out = tmp_path / "b.json"
    code = main(["bench", "--stages", "video", "--clip-seconds", "1", "--runs", "2", "--warmup", "0",
                 "--size", "64", "--json", str(out), "-q"])
    assert code == 0
    data = json.loads(out.read_text())
    assert data["settings"]["runs"] == 2 and data["stages"][0]["name"] == "video encoding"
    assert len(data["stages"][0]["times_s"]) == 2 and data["machine"]["cores_usable"] >= 1
    assert "| video encoding | frame |" in capsys.readouterr().out
    code = main(["bench", "--runs", "0", "--json", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("openinfp: error:") and "--runs" in err and "\n" not in err


def test_long_conversation_benchmark_reports_the_childs_peak_memory(tmp_path, capsys):
    """`openinfp bench --long-minutes` runs the real `animate` on a generated conversation
    (here 12 s at 64 px) and reports its peak memory and a complete output."""
    out = tmp_path / "long.json"
    assert main(["bench", "--long-minutes", "0.2", "--size", "64", "--json", str(out), "-q"]) == 0
    report = json.loads(out.read_text())
    assert report["expected_frames"] == 300 and report["frames"] == 300
    assert report["video_duration_s"] == pytest.approx(12.0) and report["has_audio"]
    # A real process that imported torch and mediapipe: hundreds of MB, not a placeholder.
    assert 150 < report["peak_rss_mb"] < report["goal_mb"]
    assert report["within_goal"] is True
    assert report["audio_mb"] == pytest.approx(12 * 16_000 * 2 * 2 / 2**20, rel=0.01)  # 16-bit stereo WAV
    assert "long conversation" in capsys.readouterr().out


def test_long_conversation_benchmark_refuses_bad_lengths(tmp_path):
    assert main(["bench", "--long-minutes", "0", "--json", str(tmp_path / "x.json")]) != 0
    assert not (tmp_path / "x.json").exists()
