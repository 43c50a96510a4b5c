"""Options of the ``portrait`` renderer (a light module: the plugin registry imports it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from openinfp.core.config import FRAMINGS


@dataclass
class PortraitRendererConfig:
    """Options of the ``portrait`` renderer."""

    size: int = field(default=512, metadata={"help": "output side in pixels for framing=head (even)"})
    framing: str = field(default="head", metadata={"choices": FRAMINGS,
                         "help": "head: square crop around the head, inside the photo (zoomed in on tight "
                         "photos); full: the whole (loaded) portrait"})
    crop_scale: float = field(default=2.4, metadata={"help": "head crop side in face heights (forehead-chin)"})
    expression: str = field(default="absolute", metadata={"choices": ("absolute", "relative"),
                            "help": "absolute: the photo's own mouth expression is undone and the motion's "
                                    "weights shown as they are; relative: they add to the photo's expression"})
    face_index: int = field(default=0, metadata={"help": "which face when several: 0 = largest"})
    grid_step: int = field(default=4, metadata={"help": "warp grid spacing in px (smaller = sharper, slower)"})
    mouth_interior: bool = field(default=True, metadata={"help": "paint a cavity and teeth when the mouth opens"})
    still_background: bool = field(default=True, metadata={"help": "segment the person (MediaPipe selfie "
                                   "segmentation) and keep the background still; torso rigid"})
    eyelids: bool = field(default=True, metadata={"help": "paint closing lids on blinks (False: warp the lids down)"})
    max_turn: float = field(default=24.0, metadata={"help": "largest out-of-plane head turn (yaw/pitch, degrees "
                            "from the photo's own pose) drawn; larger turns are eased towards it (a 2D warp of one "
                            "photo tears beyond ~25 deg, see pose_limit.py); each photo's own limit per direction, "
                            "measured at setup where its warp would smear, is at most this; 0 = no limit"})
    unfold: bool = field(default=True, metadata={"help": "keep the warp from folding over itself (False: spikes "
                                                 "at the mouth corners on nods, along the far cheek on turns)"})
