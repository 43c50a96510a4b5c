"""`--partner-face-index N`: the partner is a second face of the agent's own photo."""

from __future__ import annotations

import argparse

import numpy as np
import pytest


@pytest.fixture(scope="module")
def two_people(astronaut, grace_hopper):
    """Two real photos side by side in one image: the astronaut (left) and Grace Hopper
    (right)."""
    import cv2

    gh = cv2.resize(grace_hopper, (int(grace_hopper.shape[1] * 0.8), int(grace_hopper.shape[0] * 0.8)))
    canvas = np.full((512, 512 + gh.shape[1], 3), 255, np.uint8)
    canvas[:, :512] = astronaut
    canvas[:gh.shape[0], 512:] = gh
    return canvas


def test_partner_is_the_second_face_of_the_same_photo(registry, two_people):
    from openinfp.head.tracker import HeadTracker
    from openinfp.pipeline.render import FrameSource

    source = FrameSource(registry, "portrait", {"size": 256}, "pair",
                         {"agent": (two_people, "photo"), "partner": (two_people, "photo")},
                         partner_options={"face_index": 1})
    agent, partner = source.instances["agent"], source.instances["partner"]
    with HeadTracker() as tracker:
        faces = tracker.detect(two_people)
    assert len(faces) >= 2
    # Each crop is centred on its own face: one on the astronaut (left), one on Grace Hopper (right).
    centres = sorted(c.x0 + c.side / 2 for c in (agent.crop, partner.crop))
    assert centres[0] < 512 < centres[1]
    assert not np.array_equal(agent.photo_canvas, partner.photo_canvas)


def test_flag_reaches_the_inputs_and_is_checked(tmp_path):
    from openinfp.core.errors import InputError
    from openinfp.pipeline.cli import add_animate_arguments
    from openinfp.pipeline.pipeline import (
        AnimateInputs,
        AnimateOutputs,
        ConversationPipeline,
    )

    parser = argparse.ArgumentParser()
    add_animate_arguments(parser)
    args = parser.parse_args(["p.png", "a.wav", "-o", "o.mp4", "--partner-face-index", "1"])
    assert args.partner_face_index == 1
    pipeline = ConversationPipeline.from_preset("default", [])
    with pytest.raises(InputError, match="partner-face-index"):
        pipeline.run(AnimateInputs(portrait="p.png", audio="a.wav", partner_portrait="q.png", partner_face_index=1),
                     AnimateOutputs(video=str(tmp_path / "o.mp4")))
