"""Closed-loop check of tracker + renderer: render known motion, re-track, compare.

Used by the tests and ``python -m openinfp.head.bench``. Pose is compared relative to
the re-tracked zero-motion frame (the renderer's motion is relative to the source).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from openinfp.core.arkit import arkit_index
from openinfp.core.errors import InputError
from openinfp.core.rotations import matrix_to_euler_ypr, rot6d_to_matrix
from openinfp.head.landmarks import interocular_distance
from openinfp.head.motion_space import head_motion_space, head_rotation_from_euler


def make_motion(ypr_deg=(0.0, 0.0, 0.0), **weights: float) -> torch.Tensor:
    """One ``[62]`` head motion from (yaw, pitch, roll) degrees and named ARKit weights."""
    space = head_motion_space()
    vec = space.set(space.neutral(), "head_rotation",
                    head_rotation_from_euler(torch.tensor(np.radians(ypr_deg), dtype=torch.float32)))
    arkit = space.get(vec, "arkit").clone()
    for name, value in weights.items():
        arkit[arkit_index(name)] = value
    return space.set(vec, "arkit", arkit)


def sweep_motions(per_segment: int = 10) -> torch.Tensor:
    """Driving sequence ``[6 * per_segment, 62]``: a yaw sweep (+-20 deg), a pitch sweep
    (+-12), a roll sweep (+-15), jaw open/close, a smile, then blinks (one thing at a time,
    as in the issue's closed-loop check; see :func:`combined_motions` for a harder one)."""
    x = np.sin(np.linspace(0.0, 2 * np.pi, per_segment, endpoint=False))
    up = np.sin(np.linspace(0.0, np.pi, per_segment))
    rows = [make_motion((20 * v, 0, 0)) for v in x]
    rows += [make_motion((0, 12 * v, 0)) for v in x]
    rows += [make_motion((0, 0, 15 * v)) for v in x]
    rows += [make_motion(jawOpen=0.8 * v) for v in up]
    rows += [make_motion(mouthSmileLeft=0.8 * v, mouthSmileRight=0.8 * v) for v in up]
    rows += [make_motion(eyeBlinkLeft=v, eyeBlinkRight=v) for v in up]
    return torch.stack(rows)


def combined_motions(num: int = 48) -> torch.Tensor:
    """A harder driving sequence ``[num, 62]``: yaw, pitch and roll sweeps, jaw, smiles
    and blinks all overlapping (the fit must separate them)."""
    t = np.linspace(0.0, 1.0, num)
    rows = []
    for i, x in enumerate(t):
        ypr = (20 * np.sin(2 * np.pi * x), 12 * np.sin(4 * np.pi * x + 1.0), 12 * np.sin(6 * np.pi * x + 2.0))
        jaw = float(np.clip(np.sin(5 * np.pi * x), 0.0, 1.0)) * 0.8
        smile = float(np.clip(np.sin(3 * np.pi * x + 0.5), 0.0, 1.0)) * 0.8
        blink = 1.0 if i % 7 in (3, 4) else (0.5 if i % 7 == 5 else 0.0)
        rows.append(make_motion(ypr, jawOpen=jaw, mouthSmileLeft=smile, mouthSmileRight=smile,
                                eyeBlinkLeft=blink, eyeBlinkRight=blink))
    return torch.stack(rows)


@dataclass
class ClosedLoopReport:
    """Per-frame errors of one closed-loop run.

    Attributes:
        pose_error_deg: ``[T]`` max over yaw/pitch/roll of |re-tracked - driving| (deg).
        jaw_corr, blink_corr, smile_corr: Pearson correlations of re-tracked vs driving
            weights (blink: mean of left and right).
        landmark_error: ``[T]`` mean landmark distance between the rendered target
            landmarks and the re-tracked ones, in inter-ocular distances.
        lost: frames where no face was re-tracked.
        driving_ypr, tracked_ypr: ``[T, 3]`` driving and re-tracked (yaw, pitch, roll), deg.
    """

    pose_error_deg: np.ndarray
    jaw_corr: float
    blink_corr: float
    smile_corr: float
    landmark_error: np.ndarray
    lost: int
    driving_ypr: np.ndarray
    tracked_ypr: np.ndarray

    def pose_gain(self) -> np.ndarray:
        """``[3]`` re-tracked / driving slope per axis (yaw, pitch, roll), fitted through
        the origin over the frames that drive that axis (1 = read in full)."""
        gains = np.full(3, np.nan)
        for k in range(3):
            on = np.abs(self.driving_ypr[:, k]) > 0.5
            if on.any():
                d = self.driving_ypr[on, k]
                gains[k] = float(self.tracked_ypr[on, k] @ d / (d @ d))
        return gains

    def summary(self) -> str:
        return (f"median pose error {np.median(self.pose_error_deg):.2f} deg (p90 "
                f"{np.percentile(self.pose_error_deg, 90):.2f}), jawOpen r={self.jaw_corr:.3f}, "
                f"blink r={self.blink_corr:.3f}, smile r={self.smile_corr:.3f}, landmark error "
                f"{np.median(self.landmark_error):.3f} IOD, lost {self.lost}, yaw/pitch/roll gain "
                f"{'/'.join(f'{g:.2f}' for g in self.pose_gain())}")


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() < 1e-9 or b.std() < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def closed_loop(portrait: np.ndarray, motions: torch.Tensor | None = None, renderer_options: dict | None = None
                ) -> ClosedLoopReport:
    """Render ``motions`` ``[T, 62]`` onto ``portrait``, re-track every frame, compare."""
    from openinfp.core.interfaces import RenderSource
    from openinfp.head.renderer import PortraitRenderer, PortraitRendererConfig
    from openinfp.head.tracker import HeadTracker

    motions = sweep_motions() if motions is None else motions
    space = head_motion_space()
    renderer = PortraitRenderer(PortraitRendererConfig(**(renderer_options or {})))
    renderer.setup(RenderSource(portrait=portrait))
    tracker = HeadTracker()
    ref = tracker.track_image(renderer.source_frame)
    pose_err, lm_err, got, want, drive_ypr, got_ypr = [], [], [], [], [], []
    lost = 0
    for m in motions:
        frame = renderer.render_frame(m)
        try:
            face = tracker.track_image(frame)
        except InputError:
            lost += 1
            continue
        rel = torch.as_tensor(face.rotation @ ref.rotation.T, dtype=torch.float32)
        ypr = matrix_to_euler_ypr(rel).numpy()
        drive = matrix_to_euler_ypr(rot6d_to_matrix(space.get(m, "head_rotation"))).numpy()
        pose_err.append(np.degrees(np.abs(ypr - drive)).max())
        drive_ypr.append(np.degrees(drive))
        got_ypr.append(np.degrees(ypr))
        target = renderer.target_landmarks(m)
        lm_err.append(np.linalg.norm(face.landmarks[:, :2] - target, axis=1).mean() / interocular_distance(target))
        got.append(face.weights - ref.weights)
        want.append(space.get(m, "arkit").numpy())
    tracker.close()
    if not got:
        raise InputError("closed loop: no rendered frame could be re-tracked")
    got_a, want_a = np.array(got), np.array(want)

    def corr(*names: str) -> float:
        idx = [arkit_index(n) for n in names]
        return _corr(got_a[:, idx].mean(1), want_a[:, idx].mean(1))

    return ClosedLoopReport(np.array(pose_err), corr("jawOpen"), corr("eyeBlinkLeft", "eyeBlinkRight"),
                            corr("mouthSmileLeft", "mouthSmileRight"), np.array(lm_err), lost,
                            np.array(drive_ypr), np.array(got_ypr))
