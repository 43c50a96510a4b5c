"""RTTM files and the diarization error rate (NIST definition, optimal speaker mapping).

``diarization_error_rate`` counts, on a 10 ms grid, missed speech, false alarms and
speaker confusion per reference speaker (overlapping speech counts once per speaker),
after mapping hypothesis speakers to reference speakers one-to-one so that the most
time agrees (Hungarian assignment). A collar removes the frames within ``collar``
seconds of every reference boundary from scoring (0.25 s is the usual choice).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from openinfp.core.errors import InputError
from openinfp.core.io import PathLike, atomic_output, require_file


def write_rttm(segments: Sequence[tuple[float, float, int]], path: PathLike, file_id: str = "audio",
               speaker_names: Optional[Sequence[str]] = None) -> Path:
    """Write segments as standard RTTM (``SPEAKER file 1 start dur <NA> <NA> name <NA> <NA>``).

    Args:
        segments: ``(start_s, end_s, speaker_index)`` items.
        path: output ``.rttm`` file (written atomically).
        file_id: the recording name in column 2 (no spaces).
        speaker_names: names per speaker index (default ``spk0``, ``spk1``).
    """
    file_id = "_".join(str(file_id).split()) or "audio"
    lines = []
    for start, end, spk in sorted(segments, key=lambda s: (s[0], s[2])):
        name = speaker_names[spk] if speaker_names else f"spk{spk}"
        if end > start:
            lines.append(f"SPEAKER {file_id} 1 {start:.3f} {end - start:.3f} <NA> <NA> {name} <NA> <NA>")
    target = Path(path)
    with atomic_output(target) as tmp:
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return target


def read_rttm(path: PathLike) -> list[tuple[float, float, str]]:
    """Read an RTTM file: ``[(start_s, end_s, speaker_name)]`` of its SPEAKER lines."""
    p = require_file(path, "RTTM file")
    out = []
    for line_no, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0] != "SPEAKER":
            continue
        try:
            start, dur = float(parts[3]), float(parts[4])
            out.append((start, start + dur, parts[7]))
        except (IndexError, ValueError):
            raise InputError(f"{p}:{line_no}: not a valid RTTM SPEAKER line") from None
    return out


def diarization_error_rate(reference: Sequence[tuple[float, float, object]],
                           hypothesis: Sequence[tuple[float, float, object]],
                           collar: float = 0.0, resolution: float = 0.01) -> tuple[float, dict[str, float]]:
    """Diarization error rate with the optimal speaker mapping (NIST definition).

    ``DER = (missed + false alarm + confusion) / reference speech``, counted per
    speaker on a ``resolution`` grid; overlapping reference speech counts once per
    speaker. Frames within ``collar`` seconds of a reference boundary are not scored.

    Args:
        reference, hypothesis: ``(start_s, end_s, speaker)`` items (any hashable label).

    Returns:
        ``(der, {"missed": s, "false_alarm": s, "confusion": s, "total": s})`` in seconds.
    """
    from scipy.optimize import linear_sum_assignment

    end = max([e for _, e, _ in list(reference) + list(hypothesis)] + [0.0])
    n = int(np.ceil(end / resolution)) + 1

    def matrix(segs):
        names = sorted({s for _, _, s in segs}, key=str)
        m = np.zeros((len(names), n), bool)
        for a, b, s in segs:
            m[names.index(s), int(round(a / resolution)):int(round(b / resolution))] = True
        return m

    ref, hyp = matrix(reference), matrix(hypothesis)
    scored = np.ones(n, bool)
    if collar > 0:
        c = int(round(collar / resolution))
        for a, b, _ in reference:
            for t in (a, b):
                k = int(round(t / resolution))
                scored[max(0, k - c):k + c] = False
    ref, hyp = ref[:, scored], hyp[:, scored]
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    overlap = ref.astype(np.int64) @ hyp.T.astype(np.int64) if ref.size and hyp.size else np.zeros((0, 0))
    correct = 0
    if overlap.size:
        rows, cols = linear_sum_assignment(-overlap)
        correct = int(overlap[rows, cols].sum())
    total = int(n_ref.sum())
    missed = int(np.maximum(n_ref - n_hyp, 0).sum())
    false_alarm = int(np.maximum(n_hyp - n_ref, 0).sum())
    confusion = int(np.minimum(n_ref, n_hyp).sum()) - correct
    der = (missed + false_alarm + confusion) / max(total, 1)
    to_s = lambda k: k * resolution  # noqa: E731
    return float(der), {"missed": to_s(missed), "false_alarm": to_s(false_alarm),
                        "confusion": to_s(confusion), "total": to_s(total)}


def score_report(reference: Sequence[tuple[float, float, object]],
                 hypothesis: Sequence[tuple[float, float, object]]) -> str:
    """One line: DER with no collar and with a 0.25 s collar, and its parts (seconds)."""
    der, parts = diarization_error_rate(reference, hypothesis)
    der_collar, _ = diarization_error_rate(reference, hypothesis, collar=0.25)
    return (f"DER {der:.3f} (missed {parts['missed']:.2f} s, false alarm {parts['false_alarm']:.2f} s, "
            f"confusion {parts['confusion']:.2f} s of {parts['total']:.2f} s of reference speech); "
            f"with a 0.25 s collar {der_collar:.3f}")


class FolderScore:
    """Accumulates per-file DER rows and pooled totals (``openinfp diarize --reference-dir``)."""

    HEADER = (f"{'file':32s} {'spk ref/hyp':>11s} {'DER':>6s} {'DER.25':>6s} {'missed':>7s} "
              f"{'false al':>8s} {'confus':>7s} {'speech':>7s} {'x RT':>6s}")

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, name: str, reference, hypothesis, num_speakers: int, duration_s: float, seconds: float) -> str:
        """Score one file; returns its table line (the header first, for the first file)."""
        der, parts = diarization_error_rate(reference, hypothesis)
        der_collar, parts_collar = diarization_error_rate(reference, hypothesis, collar=0.25)
        n_ref = len({s for _, _, s in reference})
        row = dict(name=name, n_ref=n_ref, n_hyp=num_speakers, der=der, der_collar=der_collar,
                   collar_parts=parts_collar, rtf=seconds / max(duration_s, 1e-9), **parts)
        self.rows.append(row)
        line = (f"{name:32s} {n_ref:>5d}/{num_speakers:<5d} {der:6.3f} {der_collar:6.3f} {parts['missed']:7.2f} "
                f"{parts['false_alarm']:8.2f} {parts['confusion']:7.2f} {parts['total']:7.2f} {row['rtf']:6.3f}")
        return (self.HEADER + "\n" + line) if len(self.rows) == 1 else line

    def summary(self) -> str:
        """Pooled DER over all files (errors summed, then divided by all reference speech)."""
        if not self.rows:
            return "no files scored"
        tot = sum(r["total"] for r in self.rows)
        err = sum(r["missed"] + r["false_alarm"] + r["confusion"] for r in self.rows)
        tot_c = sum(r["collar_parts"]["total"] for r in self.rows)
        err_c = sum(r["collar_parts"][k] for r in self.rows for k in ("missed", "false_alarm", "confusion"))
        exact = sum(r["n_ref"] == r["n_hyp"] for r in self.rows)
        return (f"{len(self.rows)} files: pooled DER {err / max(tot, 1e-9):.3f}, with a 0.25 s collar "
                f"{err_c / max(tot_c, 1e-9):.3f}; mean per-file DER {np.mean([r['der'] for r in self.rows]):.3f}; "
                f"speaker count right in {exact}/{len(self.rows)}")
