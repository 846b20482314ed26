"""Stick-figure persons with the 17 COCO keypoints at their drawn joints.

A figure is a torso quad, thick limbs, a round head with eyes and nose, and
a small marker on every joint (lighter on the person's left side, darker on
the right), so that each keypoint is an actual, locatable image feature and
left/right are distinguishable. Image coordinates: x right, y down; the
person faces the camera, so its left side is on the image's right.
"""
import math
from typing import Tuple

import cv2
import numpy as np

from .shapes import low_freq_field

COCO_KEYPOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
                  'left_shoulder', 'right_shoulder', 'left_elbow',
                  'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
                  'right_hip', 'left_knee', 'right_knee', 'left_ankle',
                  'right_ankle')
#: COCO's skeleton, 1-based keypoint indices as in person_keypoints_*.json.
COCO_SKELETON = ([16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12],
                 [7, 13], [6, 7], [6, 8], [7, 9], [8, 10], [9, 11], [2, 3],
                 [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7])
_K = {name: i for i, name in enumerate(COCO_KEYPOINTS)}


def _pt(p: np.ndarray) -> Tuple[int, int]:
    return int(round(float(p[0]))), int(round(float(p[1])))


def pose_keypoints(rng: np.random.Generator, hip: Tuple[float, float],
                   body: float) -> np.ndarray:
    """Random upright pose: (17, 2) float joint positions in pixels.

    Args:
        hip: (x, y) of the mid-hip point.
        body: Body height (head top to ankles) in pixels.
    """
    tilt = rng.uniform(-0.2, 0.2)
    up = np.array([math.sin(tilt), -math.cos(tilt)])
    # image right = person's left
    right = np.array([math.cos(tilt), math.sin(tilt)])
    down = -up
    yaw = rng.uniform(0.7, 1.0)  # narrower when turned sideways
    hip = np.asarray(hip, float)
    kp = np.zeros((17, 2))
    neck = hip + up * 0.30 * body
    nose = neck + up * 0.13 * body
    kp[_K['nose']] = nose
    for side, s in (('left', 1.0), ('right', -1.0)):
        out = s * right
        kp[_K[f'{side}_eye']] = (nose + up * 0.035 * body
                                 + out * 0.03 * body * yaw)
        kp[_K[f'{side}_ear']] = (nose + up * 0.015 * body
                                 + out * 0.065 * body * yaw)
        shoulder = neck + out * 0.12 * body * yaw
        a = rng.uniform(0.1, 2.2)
        b = a + rng.uniform(-1.0, 1.5)
        elbow = shoulder + (math.cos(a) * down +
                            math.sin(a) * out) * 0.17 * body
        wrist = elbow + (math.cos(b) * down + math.sin(b) * out) * 0.15 * body
        hip_s = hip + out * 0.08 * body * yaw
        a = rng.uniform(-0.1, 0.45)
        b = a + rng.uniform(-0.5, 0.3)
        knee = hip_s + (math.cos(a) * down + math.sin(a) * out) * 0.24 * body
        ankle = knee + (math.cos(b) * down + math.sin(b) * out) * 0.23 * body
        for name, p in (('shoulder', shoulder), ('elbow', elbow),
                        ('wrist', wrist), ('hip', hip_s), ('knee', knee),
                        ('ankle', ankle)):
            kp[_K[f'{side}_{name}']] = p
    return kp


def draw_figure(rng: np.random.Generator, height: int, width: int,
                hip: Tuple[float, float], body: float
                ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw one person on an empty (H, W) canvas.

    Returns:
        mask: (H, W) uint8 {0, 1} of the figure.
        colors: (H, W, 3) float32 RGB of the figure (valid where mask is set).
        keypoints: (17, 2) float32, rounded to the drawn pixel centres (may
            lie outside the image).
    """
    kp = np.round(pose_keypoints(rng, hip, body)).astype(np.float32)
    mask = np.zeros((height, width), np.uint8)
    colors = np.zeros((height, width, 3), np.float32)
    skin = np.clip(rng.normal((205, 160, 130), 20), 0, 255)
    shirt = rng.uniform(30, 230, 3)
    pants = rng.uniform(30, 200, 3)
    limb = max(2, int(round(0.055 * body)))
    head_r = max(2, int(round(0.075 * body)))
    joint_r = max(1, int(round(0.025 * body)))

    def line(i, j, color, thick):
        for canvas, c in ((mask, 1), (colors, tuple(map(float, color)))):
            cv2.line(canvas, _pt(kp[_K[i]]), _pt(kp[_K[j]]), c, thick)

    def disc(p, r, color):
        for canvas, c in ((mask, 1), (colors, tuple(map(float, color)))):
            cv2.circle(canvas, _pt(p), r, c, -1)

    torso = np.stack([kp[_K['left_shoulder']], kp[_K['right_shoulder']],
                      kp[_K['right_hip']], kp[_K['left_hip']]])
    torso_pts = np.round(torso).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(mask, [torso_pts], 1)
    cv2.fillPoly(colors, [torso_pts], tuple(map(float, shirt)))
    for side in ('left', 'right'):
        line(f'{side}_hip', f'{side}_knee', pants, limb)
        line(f'{side}_knee', f'{side}_ankle', pants, limb)
    for side in ('left', 'right'):
        line(f'{side}_shoulder', f'{side}_elbow', shirt, limb)
        line(f'{side}_elbow', f'{side}_wrist', skin, limb)
    neck = (kp[_K['left_shoulder']] + kp[_K['right_shoulder']]) / 2
    line_pts = (_pt(neck), _pt(kp[_K['nose']]))
    cv2.line(mask, *line_pts, 1, limb)
    cv2.line(colors, *line_pts, tuple(map(float, skin)), limb)
    ears = (kp[_K['left_ear']] + kp[_K['right_ear']]) / 2
    disc(ears, head_r, skin)
    dark = np.clip(skin - 110, 0, 255)
    for name in ('left_eye', 'right_eye', 'nose'):
        cv2.circle(colors, _pt(kp[_K[name]]), max(0, joint_r - 1),
                   tuple(map(float, dark)), -1)
    for i, name in enumerate(COCO_KEYPOINTS[5:], start=5):
        base = shirt if 'shoulder' in name or 'elbow' in name else (
            skin if 'wrist' in name else pants)
        shade = 70.0 if name.startswith('left') else -70.0
        disc(kp[i], joint_r, np.clip(base + shade, 0, 255))
    colors += low_freq_field(rng, height, width, 4, 3) * 6.0
    return mask, np.clip(colors, 0, 255), kp
