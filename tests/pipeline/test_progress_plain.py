"""Progress bars on a non-terminal become a few plain lines."""

from __future__ import annotations

import io

from openinfp.pipeline.progress import PlainProgressStream


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_tqdm_bar_on_a_file_gives_start_periodic_and_final_lines():
    from tqdm import tqdm

    sink, clock = io.StringIO(), _Clock()
    stream = PlainProgressStream(sink, interval_s=10.0, clock=clock)
    stream.write("openinfp: rendering\n")
    for i in tqdm(range(500), desc="rendering", file=stream, mininterval=0, miniters=1, leave=False):
        clock.t = i * 0.1  # 50 s in all: one line per 10 s
    stream.write("video: out.mp4\n")
    lines = sink.getvalue().splitlines()
    assert "\r" not in sink.getvalue()
    assert lines[0] == "openinfp: rendering" and lines[-1] == "video: out.mp4"
    bar = lines[1:-1]
    assert 4 <= len(bar) <= 8  # not 500 redraws
    assert bar[0].startswith("rendering: 0%") and bar[-1].startswith("rendering: 100%") and "500/500" in bar[-1]
    assert all("|" not in ln for ln in bar)  # the bar graphic is dropped


def test_kept_bar_and_partial_text():
    sink = io.StringIO()
    stream = PlainProgressStream(sink)
    stream.write("\rsynth:  10%|#  | 1/10")
    stream.write("\rsynth: 100%|###| 10/10")
    stream.write("\n")
    stream.write("no newline")
    stream.finish()
    assert sink.getvalue() == "synth: 10% 1/10\nsynth: 100% 10/10\nno newline"


def test_a_message_between_redraws_gets_its_own_line():
    sink, clock = io.StringIO(), _Clock()
    stream = PlainProgressStream(sink, clock=clock)
    stream.write("\rrender:   0%|          | 0/75")
    stream.write("openinfp: building a cache\n")
    clock.t = 30.0
    stream.write("\rrender: 100%|##########| 75/75")
    stream.write("\r" + " " * 30 + "\r")  # tqdm clearing a bar with leave=False
    assert sink.getvalue().splitlines() == ["render: 0% 0/75", "openinfp: building a cache", "render: 100% 75/75"]
