"""Named groups of MediaPipe face-mesh landmark indices (478-point refined topology).

"Left"/"right" are the subject's, as in ARKit: the subject's left eye appears on the
viewer's right.
"""

from __future__ import annotations

import numpy as np

NUM_LANDMARKS = 478
"""468 mesh points + 10 refined iris points."""

FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
"""The face outline, clockwise on screen starting at the top of the forehead."""

FOREHEAD_TOP = 10
CHIN = 152
NOSE_TIP = 1

LIPS_INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_INNER_LOWER = (308, 324, 318, 402, 317, 14, 87, 178, 88, 95, 78)
LIPS_INNER = LIPS_INNER_UPPER + LIPS_INNER_LOWER[1:-1]
"""Inner lip contour as one closed polygon (mouth opening)."""
LIPS_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
MOUTH_CORNERS = (61, 291)
LIP_INNER_CENTER_UPPER = 13
LIP_INNER_CENTER_LOWER = 14
LIP_OUTER_CENTER_LOWER = 17  # middle of the lower lip's outer edge

RIGHT_EYE = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
LEFT_EYE = (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249)
"""Eye contours as closed polygons (outer corner, upper lid, inner corner, lower lid)."""
RIGHT_EYE_UPPER = (246, 161, 160, 159, 158, 157, 173)
RIGHT_EYE_LOWER = (7, 163, 144, 145, 153, 154, 155)
LEFT_EYE_UPPER = (466, 388, 387, 386, 385, 384, 398)
LEFT_EYE_LOWER = (249, 390, 373, 374, 380, 381, 382)
RIGHT_EYE_CORNERS = (33, 133)
LEFT_EYE_CORNERS = (263, 362)

RIGHT_IRIS = (468, 469, 470, 471, 472)
LEFT_IRIS = (473, 474, 475, 476, 477)
"""Iris centre first, then four points on its rim."""
IRIS = RIGHT_IRIS + LEFT_IRIS

RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)


def interocular_distance(landmarks: np.ndarray) -> float:
    """Pupil-to-pupil distance of ``[478, >=2]`` landmarks (same unit as the input)."""
    return float(np.linalg.norm(landmarks[RIGHT_IRIS[0], :2] - landmarks[LEFT_IRIS[0], :2]))


def polygon_area(points: np.ndarray) -> float:
    """Area of a closed 2D polygon ``[N, 2]`` (shoelace formula)."""
    x, y = points[:, 0], points[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
