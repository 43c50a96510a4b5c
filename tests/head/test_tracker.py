import numpy as np
import pytest

from openinfp.core.errors import InputError
from openinfp.head.config import HeadConfig
from openinfp.head.motion_space import head_euler, head_motion_space
from openinfp.head.tracker import HeadTracker


def test_tracks_the_astronaut(astronaut):
    with HeadTracker() as t:
        face = t.track_image(astronaut)
    assert face.landmarks.shape == (478, 3) and face.motion.shape == (62,)
    x0, y0, x1, y1 = face.bbox
    assert 150 < x0 < x1 < 300 and 50 < y0 < y1 < 220  # her face in the 512x512 photo
    ypr = np.degrees(head_euler(face.motion).numpy())
    assert np.abs(ypr).max() < 15  # roughly frontal
    w = head_motion_space().get(face.motion, "arkit").numpy()
    assert ((w >= 0) & (w <= 1)).all()
    smile = w[head_motion_space().part("arkit").component_names.index("mouthSmileLeft")]
    assert smile > 0.1  # she smiles
    assert 30 < face.interocular_px < 60 and face.fit_rms < 0.2


def test_grayscale_and_rgba_paths(tmp_path, astronaut):
    from PIL import Image

    Image.fromarray(astronaut).convert("L").save(tmp_path / "g.jpg")
    rgba = np.concatenate([astronaut, np.full(astronaut.shape[:2] + (1,), 255, np.uint8)], 2)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    with HeadTracker() as t:
        assert t.track_image(tmp_path / "g.jpg").motion.shape == (62,)
        assert t.track_image(tmp_path / "a.png").motion.shape == (62,)


def test_no_face_names_the_file(tmp_path):
    from PIL import Image

    path = tmp_path / "wall.png"
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(path)
    with pytest.raises(InputError, match="no face found in .*wall.png") as err:
        HeadTracker().track_image(path)
    assert "48 px" in str(err.value)


def test_face_too_small_says_the_minimum(astronaut):
    with pytest.raises(InputError, match="too small.*minimum is 400 px"):
        HeadTracker(HeadConfig(min_face_px=400)).track_image(astronaut)


def test_several_faces_largest_first_and_face_index(astronaut):
    import cv2

    face = astronaut[20:320, 80:380]
    small = cv2.resize(face, (220, 220), interpolation=cv2.INTER_AREA)
    canvas = np.full((300, 560, 3), 200, np.uint8)
    canvas[:, :300] = face
    canvas[40:260, 320:540] = small
    with HeadTracker() as t:
        big = t.track_image(canvas)
    with HeadTracker(HeadConfig(face_index=1)) as t:
        other = t.track_image(canvas)
    assert big.bbox[2] < 300 and other.bbox[0] > 320
    assert big.interocular_px > 1.25 * other.interocular_px
    with pytest.raises(InputError, match="face index 5 requested but only 2"):
        HeadTracker(HeadConfig(face_index=5)).track_image(canvas)


def test_track_video_relative_translation_and_smoothing(tmp_path, renderer):
    from openinfp.core.video import VideoWriter
    from openinfp.head.closed_loop import make_motion

    path = tmp_path / "drive.mp4"
    jaw = [0, 0, 0, 0.7, 0.7, 0.7, 0, 0, 0, 0.7, 0.7, 0.7]
    with VideoWriter(path, fps=25) as w:
        for j in jaw:
            w.write(renderer.render_frame(make_motion(jawOpen=j)))
    seq = HeadTracker().track_video(path, progress=False)
    space = head_motion_space()
    assert seq.num_frames == len(jaw) and seq.fps == 25 and seq.annotations["face_found"].all()
    assert np.allclose(seq.get("head_translation")[0].numpy(), 0, atol=1e-5)
    assert abs(float(seq.get("head_scale")[0]) - 1) < 1e-5
    tracked = space.get_component(seq.motion, "arkit", "jawOpen").numpy()
    # No lag: the frame where the mouth opens already shows most of the opening.
    assert tracked[3] - tracked[2] > 0.6 * (tracked[5] - tracked[2]) > 0.1


def test_finds_a_small_face_in_a_full_length_picture(astronaut):
    """A face under a tenth of the frame (a full-length or group photo) is too small for the face
    mesh's own detector; the full-range detector finds it, and the landmarks land where the face is."""
    import cv2

    with HeadTracker() as t:
        ref = t.track_image(astronaut).landmarks
    scale, x0, y0 = 0.5, 700, 300  # the face about 5 % of the height: a full-length or group photo
    small = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((2000, 1500, 3), 150, np.uint8)
    canvas[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    with HeadTracker() as t:
        face = t.track_image(canvas)
    expected = ref[:, :2] * scale + np.array([x0, y0])
    err = np.linalg.norm(face.landmarks[:, :2] - expected, axis=1)
    assert np.median(err) < 0.1 * face.interocular_px, np.median(err)


def test_full_length_real_photo_has_its_face(realdata):
    """A real full-length cabinet card (face about 8 % of the picture's height)."""
    path = realdata / "portraits" / "09_sepia_cabinet_card_woman_full_body_large.jpg"
    with HeadTracker() as t:
        face = t.track_image(path)
    h, w = face.image_size
    x0, y0, x1, y1 = face.bbox
    assert 0.4 * w < x0 < x1 < 0.65 * w and 0.15 * h < y0 < y1 < 0.32 * h, face.bbox
    assert face.fit_rms < 0.2 and abs(np.degrees(head_euler(face.motion).numpy())).max() < 20
