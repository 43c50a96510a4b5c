"""Markdown tables of an :class:`~openinfp.eval.runner.EvalReport`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from openinfp.eval.runner import EvalReport

# (key, header) per table; arrows: lower / higher is better; no arrow: compare with the real motion.
TABLES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Against the real motion", (
        ("fd_exp", "FD-exp ↓"), ("fd_pose", "FD-pose ↓"), ("pfd_exp", "P-FD-exp ↓"), ("pfd_pose", "P-FD-pose ↓"),
        ("l1_exp", "L1-exp ↓"), ("l2_exp", "L2-exp ↓"), ("l1_pose", "L1-pose ↓"), ("rpcc_exp", "rPCC-exp ↓"),
        ("rpcc_pose", "rPCC-pose ↓"),
    )),
    ("Diversity (closer to the real motion is better)", (
        ("sid_exp", "SID-exp"), ("sid_pose", "SID-pose"), ("var_exp", "Var-exp"), ("var_pose", "Var-pose"),
        ("l1div_exp", "L1div-exp"), ("l1div_pose", "L1div-pose"),
    )),
    ("Conversation behaviour", (
        ("role_auc", "role AUC ↑"), ("lipsync_r", "lip-sync r ↑"), ("lipsync_lag", "lip lag (frames)"),
        ("beat_consistency", "BC"), ("nod_rate", "nods / min"), ("listen_head_energy", "listening head energy"),
        ("generation_rtf", "generation RTF ↓"),
    )),
    ("Rendered frames", (
        ("face_found", "face found ↑"), ("id_nme", "ID-NME ↓"), ("ssim", "SSIM ↑"), ("psnr", "PSNR ↑"),
    )),
)


def _fmt(x: Optional[float]) -> str:
    if x is None:
        return "–"
    mag = abs(x)
    if mag < 1e-10:  # round-off around an exact zero (e.g. FD of the ground truth with itself)
        return "0"
    if mag >= 100:
        return f"{x:.1f}"
    if mag >= 1:
        return f"{x:.3f}"
    if mag >= 1e-3:
        return f"{x:.4f}"
    return f"{x:.2e}"


def format_eval_markdown(report: "EvalReport") -> str:
    opts = report.options
    total_s = sum(c["seconds"] for c in report.conversations)
    lines = [f"{len(report.conversations)} conversation(s), {total_s:.1f} s in all, motion space "
             f"{opts.space!r}, seed {opts.seed}.", ""]
    ok = [r for r in report.results if r.status == "ok"]
    for title, columns in TABLES:
        present = [(k, h) for k, h in columns if any(r.value(k) is not None for r in ok)]
        if not present and title != TABLES[0][0]:
            continue
        lines += [f"**{title}**", "", "| system | " + " | ".join(h for _, h in present) + " |",
                  "|---|" + "---|" * len(present)]
        for r in report.results:
            if r.status != "ok":
                if title == TABLES[0][0]:
                    lines.append(f"| {r.name} | {r.status}: {_cell(r.reason)} |" + " |" * max(0, len(present) - 1))
                continue
            lines.append(f"| {r.name} | " + " | ".join(_fmt(r.value(k)) for k, _ in present) + " |")
        lines.append("")
        absent = [(k, h) for k, h in columns if (k, h) not in present]
        reasons = _reasons(ok, [k for k, _ in absent])
        if reasons:
            lines.append("Not computed: " + "; ".join(f"{h.split(' ')[0]} ({reasons[k]})"
                                                      for k, h in absent if k in reasons) + ".")
            lines.append("")
    lines += [f"- {n}" for n in report.notes]
    lines.append(f"- Evaluation wall time {report.wall_s:.0f} s.")
    return "\n".join(lines) + "\n"


def _reasons(results, keys) -> dict[str, str]:
    out: dict[str, str] = {}
    for k in keys:
        for r in results:
            why = r.metrics.missing.get(k) or r.image_missing.get(k)
            if why:
                out[k] = _cell(why)
                break
    return out


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")
