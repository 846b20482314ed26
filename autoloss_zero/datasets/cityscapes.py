"""Writer of a small Cityscapes-layout set, read by mmseg's
``CityscapesDataset``.

Layout (``root`` is what :func:`generate_demo_data` was given)::

    root/leftImg8bit/{train,val}/<city>/<city>_<seq>_000019_leftImg8bit.png
    root/gtFine/{train,val}/<city>/<city>_<seq>_000019_gtFine_labelTrainIds.png
    root/gtFine/{train,val}/<city>/<city>_<seq>_000019_gtFine_labelIds.png

``labelTrainIds`` hold the 19 train ids (255 = void); ``labelIds`` the full
Cityscapes ids, for tools that want them. Scenes are street-like: sky on top,
buildings and trees along a horizon, a road in perspective with sidewalks,
thin poles, a rare small traffic sign, people and cars in depth order, and
sometimes the void ego-vehicle bonnet at the bottom.
"""
from pathlib import Path
from typing import Dict, Tuple

import cv2
import numpy as np

from .shapes import (Appearance, Canvas, render_texture, schedule_presence,
                     shape_mask, stroke_thickness)

CITYSCAPES_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole',
                      'traffic light', 'traffic sign', 'vegetation', 'terrain',
                      'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train',
                      'motorcycle', 'bicycle')
#: train id -> Cityscapes label id (void 255 -> 0 'unlabeled').
TRAIN_ID_TO_LABEL_ID = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26,
                        27, 28, 31, 32, 33)
TRAIN_CITIES = ('aachen', 'bochum', 'bremen')
VAL_CITIES = ('frankfurt', 'lindau', 'munster')

ROAD, SIDEWALK, BUILDING, POLE, SIGN, VEGETATION, TERRAIN, SKY, PERSON, CAR = (
    0, 1, 2, 5, 7, 8, 9, 10, 11, 13)
#: Train ids that the demo scenes use; SIGN is the rare small class.
DEMO_CITYSCAPES_TRAIN_IDS = (ROAD, SIDEWALK, BUILDING, POLE, SIGN, VEGETATION,
                             TERRAIN, SKY, PERSON, CAR)
DEMO_CITYSCAPES_RARE_CLASS = SIGN

LOOKS = {
    SKY: Appearance((120, 165, 225), 20, 'smooth', (8, 12), 0.25),
    BUILDING: Appearance((125, 110, 100), 20, 'checker', (5, 9), 0.2),
    VEGETATION: Appearance((75, 125, 55), 20, 'noise', (5, 8), 0.45),
    TERRAIN: Appearance((150, 160, 95), 20, 'noise', (5, 8), 0.2),
    ROAD: Appearance((95, 95, 100), 12, 'smooth', (8, 12), 0.15),
    SIDEWALK: Appearance((170, 150, 160), 15, 'checker', (3, 5), 0.12),
    POLE: Appearance((135, 135, 130), 20, 'smooth', (8, 12), 0.1),
    SIGN: Appearance((225, 200, 45), 20, 'smooth', (8, 12), 0.1),
    PERSON: Appearance((150, 80, 85), 50, 'noise', (5, 8), 0.3),
    CAR: Appearance((120, 120, 160), 70, 'smooth', (8, 12), 0.2),
}
#: Fraction of images containing each optional class.
FREQUENCY = {VEGETATION: 0.7, TERRAIN: 0.4, POLE: 0.7, SIGN: 0.2, PERSON: 0.5,
             CAR: 0.75}


def _tex(rng, h, w, train_id):
    return render_texture(rng, h, w, LOOKS[train_id])


def _poly_mask(h: int, w: int, points) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.round(np.asarray(points)).astype(np.int32)], 1)
    return mask


def render_cityscapes_sample(rng: np.random.Generator, width: int, height: int,
                             present: Dict[int, bool]
                             ) -> Tuple[np.ndarray, np.ndarray]:
    """One street scene: (H, W, 3) uint8 RGB and (H, W) uint8 train ids."""
    h, w = height, width
    horizon = h * rng.uniform(0.35, 0.5)
    sky = _tex(rng, h, w, SKY)
    sky += np.linspace(-20, 25, h, dtype=np.float32)[:, None, None]
    canvas = Canvas(np.clip(sky, 0, 255), fill_label=SKY)
    # The ground below the horizon is sidewalk until the road covers it.
    canvas.paint(
        _poly_mask(h, w, [(0, horizon), (w, horizon), (w, h), (0, h)]),
        _tex(rng, h, w, SIDEWALK), SIDEWALK)
    # Buildings along the horizon, with gaps of sky.
    x = rng.uniform(-0.1, 0.1) * w
    while x < w:
        bw = rng.uniform(0.15, 0.4) * w
        if rng.random() < 0.85:
            top = horizon - rng.uniform(0.15, 0.4) * h
            bottom = horizon + rng.uniform(0.0, 0.06) * h
            canvas.paint(_poly_mask(h, w, [(x, top), (x + bw, top),
                                           (x + bw, bottom), (x, bottom)]),
                         _tex(rng, h, w, BUILDING), BUILDING)
        x += bw
    if present[VEGETATION]:
        for _ in range(int(rng.integers(1, 4))):
            center = (rng.uniform(0, w), horizon - rng.uniform(0, 0.15) * h)
            canvas.paint(shape_mask(rng, h, w, 'blob', center,
                                    rng.uniform(0.3, 0.6) * h),
                         _tex(rng, h, w, VEGETATION), VEGETATION)
    vp = w * rng.uniform(0.4, 0.6)
    road_half = rng.uniform(0.3, 0.5) * w
    walk = rng.uniform(0.15, 0.3) * w
    if present[TERRAIN]:  # grass beyond one sidewalk
        side = rng.choice([-1, 1])
        far = vp + side * (road_half + walk)
        canvas.paint(_poly_mask(h, w, [(vp + side * 0.05 * w, horizon),
                                       (vp + side * 2 * w, horizon),
                                       (vp + side * 2 * w, h), (far, h)]),
                     _tex(rng, h, w, TERRAIN), TERRAIN)
    road = _tex(rng, h, w, ROAD)
    for t0 in np.arange(rng.uniform(0, 0.2), 1.0, 0.2):  # dashed centre line
        p0 = (vp, horizon + t0 * (h - horizon))
        p1 = (vp, horizon + min(1.0, t0 + 0.1) * (h - horizon))
        cv2.line(road, tuple(int(round(v)) for v in p0),
                 tuple(int(round(v)) for v in p1), (220, 220, 220),
                 max(1, int(round(1 + 2 * t0))))
    canvas.paint(
        _poly_mask(h, w, [(vp - 0.01 * w, horizon), (vp + 0.01 * w, horizon),
                          (vp + road_half, h), (vp - road_half, h)]),
        road, ROAD)
    thick = stroke_thickness(w, h)
    # Depth-sorted things on the ground: poles (+ the rare sign), people, cars.
    things = []
    if present[POLE] or present[SIGN]:
        things += [('pole', i == 0 and present[SIGN])
                   for i in range(int(rng.integers(1, 4)))]
    if present[PERSON]:
        things += [('person', False)] * int(rng.integers(1, 4))
    if present[CAR]:
        things += [('car', False)] * int(rng.integers(1, 4))
    ground = []
    for kind, sign in things:
        depth = rng.uniform(0.15, 1.0)  # 0 at the horizon, 1 at the bottom
        y = horizon + depth * (h - horizon)
        half = road_half * depth
        if kind == 'car':
            x = vp + rng.uniform(-0.8, 0.8) * half
        else:  # on a sidewalk
            x = vp + rng.choice([-1, 1]) * (
                half + rng.uniform(0.1, 0.9) * walk * depth)
        ground.append((y, kind, sign, x, depth))
    for y, kind, sign, x, depth in sorted(ground, key=lambda g: g[0]):
        scale = 0.3 + 0.7 * depth
        if kind == 'pole':
            length = rng.uniform(0.35, 0.6) * h * scale
            canvas.paint(
                shape_mask(rng, h, w, 'pole', (x, y - length / 2), length,
                           thick), _tex(rng, h, w, POLE), POLE)
            if sign:
                mask = shape_mask(rng, h, w, 'small', (x, y - length),
                                  rng.uniform(0.1, 0.16) * h * scale)
                canvas.paint(mask, _tex(rng, h, w, SIGN), SIGN)
        elif kind == 'person':
            ph = rng.uniform(0.2, 0.35) * h * scale
            mask = np.zeros((h, w), np.uint8)
            cv2.ellipse(
                mask, (int(round(x)), int(round(y - ph / 2))),
                (max(1, int(round(ph * 0.16))), max(1, int(round(ph / 2)))),
                0, 0, 360, 1, -1)
            cv2.circle(mask, (int(round(x)), int(round(y - ph))),
                       max(1, int(round(ph * 0.13))), 1, -1)
            canvas.paint(mask, _tex(rng, h, w, PERSON), PERSON)
        else:
            cw = rng.uniform(0.2, 0.3) * w * scale
            ch = cw * rng.uniform(0.45, 0.6)
            body = _poly_mask(h, w, [(x - cw / 2, y - ch * 0.6),
                                     (x + cw / 2, y - ch * 0.6),
                                     (x + cw / 2, y), (x - cw / 2, y)])
            cv2.ellipse(
                body, (int(round(x)), int(round(y - ch * 0.6))),
                (max(1, int(round(cw * 0.33))), max(1, int(round(ch * 0.4)))),
                0, 180, 360, 1, -1)
            tex = _tex(rng, h, w, CAR)
            cv2.rectangle(
                tex, (int(round(x - cw * 0.28)), int(round(y - ch * 0.95))),
                (int(round(x + cw * 0.28)), int(round(y - ch * 0.62))),
                (40, 50, 60), -1)  # windscreen
            for wx in (x - cw * 0.32, x + cw * 0.32):
                cv2.circle(tex, (int(round(wx)), int(round(y))),
                           max(1, int(round(ch * 0.18))), (25, 25, 25), -1)
            canvas.paint(body, tex, CAR)
    if rng.random() < 0.3:  # the ego vehicle's bonnet is void
        top = h * rng.uniform(0.88, 0.94)
        mask = _poly_mask(h, w, [(0, h), (0, top + 0.03 * h), (w / 2, top),
                                 (w, top + 0.03 * h), (w, h)])
        canvas.paint(mask, np.full((h, w, 3), 30, np.float32), 255)
    return canvas.to_uint8(rng, blur=0.5), canvas.label.copy()


def _png(path: Path, array: np.ndarray) -> None:
    ok, buf = cv2.imencode('.png', array)
    assert ok
    path.write_bytes(buf.tobytes())


def write_cityscapes(root: Path, num_train: int, num_val: int,
                     size: Tuple[int, int], rng: np.random.Generator
                     ) -> Dict[str, int]:
    """Write the Cityscapes-layout set under ``root``; return file counts."""
    width, height = size
    to_label_id = np.zeros(256, np.uint8)
    to_label_id[:len(TRAIN_ID_TO_LABEL_ID)] = TRAIN_ID_TO_LABEL_ID
    for split, num, cities in (('train', num_train, TRAIN_CITIES),
                               ('val', num_val, VAL_CITIES)):
        schedule = {k: schedule_presence(rng, num, f)
                    for k, f in FREQUENCY.items()}
        for i in range(num):
            city = cities[i % len(cities)]
            img_dir = Path(root) / 'leftImg8bit' / split / city
            gt_dir = Path(root) / 'gtFine' / split / city
            img_dir.mkdir(parents=True, exist_ok=True)
            gt_dir.mkdir(parents=True, exist_ok=True)
            present = {k: bool(v[i]) for k, v in schedule.items()}
            image, label = render_cityscapes_sample(rng, width, height,
                                                    present)
            stem = f'{city}_{i:06d}_000019'
            _png(img_dir / f'{stem}_leftImg8bit.png', image[..., ::-1])
            _png(gt_dir / f'{stem}_gtFine_labelTrainIds.png', label)
            _png(gt_dir / f'{stem}_gtFine_labelIds.png', to_label_id[label])
    total = num_train + num_val
    return {'leftImg8bit': total, 'gtFine': 2 * total}
