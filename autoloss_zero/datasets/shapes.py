"""Seeded renderer of textured shapes, the drawing core of the demo data sets.

A scene is painted back to front on a :class:`Canvas`: a random textured
background, optional unlabelled distractors, then objects whose appearance is
an :class:`Appearance` (colour statistics + a texture pattern) and whose
outline is one of :data:`SHAPES`. Later objects occlude earlier ones; the
canvas keeps a per-pixel label and instance map, so visible masks, VOC-style
``255`` borders and keypoint visibility all follow from the painting order.

Every random draw comes from one ``numpy.random.Generator`` passed in by the
caller, so the same seed gives the same pixels (and, with the same OpenCV and
zlib, the same file bytes). Nothing here touches the global RNGs.

Colours are RGB floats in [0, 255]; masks are ``uint8`` {0, 1} arrays of shape
(H, W); sizes are in pixels unless a name says ``frac``.
"""
import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

#: Texture patterns of :func:`render_texture`.
TEXTURES = ('smooth', 'stripes', 'checker', 'dots', 'noise')
#: Outlines of :func:`shape_mask`; ``bicycle`` and ``pole`` are the thin ones.
SHAPES = ('ellipse', 'polygon', 'rect', 'blob', 'small', 'bicycle', 'pole')


@dataclass(frozen=True)
class Appearance:
    """Colour statistics and texture of one class.

    Args:
        color: Mean RGB colour in [0, 255].
        color_std: Std of the per-instance colour jitter (per channel).
        texture: One of :data:`TEXTURES`.
        period: (min, max) texture period in pixels at a 96-pixel short side;
            it scales with the image.
        contrast: Texture amplitude; 1.0 swings about +-100 grey levels.
    """
    color: Tuple[float, float, float]
    color_std: float = 25.0
    texture: str = 'smooth'
    period: Tuple[float, float] = (6.0, 10.0)
    contrast: float = 0.3


@dataclass(frozen=True)
class ObjectClass:
    """One object class of a demo data set.

    Args:
        name: Class name (as the data set's metainfo spells it).
        label: Id written to label maps (VOC id, Cityscapes train id, ...).
        shape: One of :data:`SHAPES`.
        appearance: How its pixels look.
        size: (min, max) extent as a fraction of the image's short side.
        frequency: Fraction of images that contain the class.
        count: (min, max) instances in an image that contains the class.
    """
    name: str
    label: int
    shape: str
    appearance: Appearance
    size: Tuple[float, float]
    frequency: float
    count: Tuple[int, int] = (1, 1)


#: Looks of the VOC and COCO demo objects, by texture: a class drawn in both
#: sets (a bicycle, a bird, ...) looks the same in both.
OBJECT_LOOKS = {
    'stripes': Appearance((200, 70, 60), 30, 'stripes', (5, 8), 0.35),
    'smooth': Appearance((220, 190, 50), 30, 'smooth', (6, 10), 0.2),
    'checker': Appearance((70, 150, 80), 30, 'checker', (6, 10), 0.35),
    'dots': Appearance((70, 100, 190), 30, 'dots', (5, 8), 0.4),
    'noise': Appearance((200, 110, 190), 25, 'noise', (5, 8), 0.3),
}


def object_classes(*rows: tuple) -> Tuple[ObjectClass, ...]:
    """Object classes from table rows, with looks from :data:`OBJECT_LOOKS`.

    Args:
        *rows: ``(name, label, shape, look, size, frequency, count)``, the
            fields of :class:`ObjectClass` with the appearance given by its
            key ``look`` in :data:`OBJECT_LOOKS`.

    Returns:
        tuple[ObjectClass, ...]: One class per row, in order.
    """
    return tuple(
        ObjectClass(name, label, shape, OBJECT_LOOKS[look], size, frequency,
                    count)
        for name, label, shape, look, size, frequency, count in rows)


def parse_size(size) -> Tuple[int, int]:
    """Return ``(width, height)`` from an int (square) or a 2-sequence."""
    if isinstance(size, (int, np.integer)):
        width = height = int(size)
    elif isinstance(size, Sequence) and len(size) == 2:
        width, height = (int(s) for s in size)
    else:
        raise ValueError(
            f'size must be an int or (width, height), got {size!r}')
    if width < 16 or height < 16:
        raise ValueError(f'size must be at least 16x16 pixels, got {size!r}')
    return width, height


def schedule_presence(rng: np.random.Generator, num_images: int,
                      frequency: float) -> np.ndarray:
    """Choose which images contain a class: ``round(frequency * n)`` of them.

    At least one image of a non-empty split gets it, so that a rare class is
    rare but never absent. Returns a bool array of shape (num_images,).
    """
    present = np.zeros(num_images, dtype=bool)
    if num_images == 0:
        return present
    k = min(num_images, max(1, int(round(frequency * num_images))))
    present[rng.choice(num_images, size=k, replace=False)] = True
    return present


def low_freq_field(rng: np.random.Generator, height: int, width: int,
                   cells: int = 4, channels: int = 1) -> np.ndarray:
    """Smooth random field (H, W, channels) of unit-ish std, by bicubic
    upsampling."""
    grid = rng.standard_normal((cells, cells, channels)).astype(np.float32)
    field = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return field.reshape(height, width, channels)


def _pattern(rng: np.random.Generator, height: int, width: int, kind: str,
             period: float) -> np.ndarray:
    """A texture pattern in about [-1, 1], shape (H, W)."""
    if kind == 'smooth':
        return np.clip(
            low_freq_field(rng, height, width, 3)[..., 0] * 0.6, -1, 1)
    if kind == 'noise':
        noise = rng.standard_normal((height, width)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), 0.7)
        return np.clip(noise / (noise.std() + 1e-6) * 0.6, -1, 1)
    theta = rng.uniform(0, math.pi)
    phase = rng.uniform(0, 2 * math.pi, size=2)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    u = xs * math.cos(theta) + ys * math.sin(theta)
    v = -xs * math.sin(theta) + ys * math.cos(theta)
    w = 2 * math.pi / period
    if kind == 'stripes':
        return np.sin(w * u + phase[0])
    if kind == 'checker':
        return np.tanh(4 * np.sin(w * u + phase[0]) * np.sin(w * v + phase[1]))
    if kind == 'dots':
        bump = np.cos(w * u + phase[0]) * np.cos(w * v + phase[1])
        return np.where(bump > 0.4, 1.0, -0.6).astype(np.float32)
    raise ValueError(f'unknown texture {kind!r}; valid: {TEXTURES}')


def render_texture(rng: np.random.Generator, height: int, width: int,
                   appearance: Appearance,
                   color: Optional[np.ndarray] = None) -> np.ndarray:
    """Full-canvas texture (H, W, 3) float32 RGB of one instance.

    The instance colour is drawn around ``appearance.color`` (unless ``color``
    is given), the pattern is added along a random near-grey direction, and a
    faint low-frequency shading makes flat regions non-constant.
    """
    if color is None:
        color = rng.normal(appearance.color, appearance.color_std)
    color = np.clip(np.asarray(color, np.float32), 0, 255)
    scale = min(height, width) / 96.0
    period = max(3.0, rng.uniform(*appearance.period) * scale)
    pattern = _pattern(rng, height, width, appearance.texture, period)
    tint = np.clip(1.0 + 0.3 * rng.standard_normal(3), 0.2, 2.0)
    tint = (tint / np.linalg.norm(tint) * math.sqrt(3)).astype(np.float32)
    shading = low_freq_field(rng, height, width, 3)
    image = (color + 100.0 * appearance.contrast * pattern[..., None] * tint
             + 8.0 * shading)
    return np.clip(image, 0, 255).astype(np.float32)


def _poly(points: np.ndarray) -> np.ndarray:
    return np.round(points).astype(np.int32).reshape(-1, 1, 2)


def shape_mask(rng: np.random.Generator, height: int, width: int, kind: str,
               center: Tuple[float, float], extent: float,
               thickness: int = 2) -> np.ndarray:
    """Binary mask (H, W) uint8 of one shape.

    Args:
        kind: One of :data:`SHAPES`.
        center: (x, y) in pixels; the shape may reach beyond the image.
        extent: Rough diameter (length for thin shapes) in pixels.
        thickness: Stroke width of thin shapes in pixels.
    """
    mask = np.zeros((height, width), np.uint8)
    cx, cy = center
    r = max(1.0, extent / 2)
    if kind in ('ellipse', 'small'):
        ratio = (rng.uniform(0.45, 1.0) if kind == 'ellipse' else
                 rng.uniform(0.6, 1.0))
        axes = (max(1, int(round(r))), max(1, int(round(r * ratio))))
        cv2.ellipse(mask, (int(round(cx)), int(round(cy))), axes,
                    rng.uniform(0, 180), 0, 360, 1, -1)
    elif kind == 'polygon':
        n = int(rng.integers(5, 9))
        angles = np.sort(rng.uniform(0, 2 * math.pi, n))
        radii = r * rng.uniform(0.5, 1.0, n)
        pts = np.stack(
            [cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1)
        cv2.fillPoly(mask, [_poly(pts)], 1)
    elif kind == 'rect':
        box = ((cx, cy), (2 * r, 2 * r * rng.uniform(0.3, 0.7)),
               rng.uniform(-30, 30))
        cv2.fillPoly(mask, [_poly(cv2.boxPoints(box))], 1)
    elif kind == 'blob':
        for _ in range(int(rng.integers(2, 5))):
            off = rng.normal(0, r * 0.35, 2)
            rad = max(1, int(round(r * rng.uniform(0.35, 0.6))))
            cv2.circle(mask,
                       (int(round(cx + off[0])), int(round(cy + off[1]))),
                       rad, 1, -1)
    elif kind == 'bicycle':
        _draw_bicycle(rng, mask, cx, cy, r, thickness)
    elif kind == 'pole':
        top = cy - r
        x = int(round(cx))
        cv2.line(mask, (x, int(round(top))), (x, int(round(cy + r))), 1,
                 thickness)
    else:
        raise ValueError(f'unknown shape {kind!r}; valid: {SHAPES}')
    return mask


def _draw_bicycle(rng: np.random.Generator, mask: np.ndarray, cx: float,
                  cy: float, r: float, thickness: int) -> None:
    """Two wheels (rings) joined by a frame of lines, all ``thickness``
    wide."""
    angle = rng.uniform(-0.35, 0.35)
    wheel = max(3, int(round(r * rng.uniform(0.35, 0.45))))
    half = r - wheel
    c, s = math.cos(angle), math.sin(angle)
    back = (cx - half * c, cy - half * s)
    front = (cx + half * c, cy + half * s)
    for x, y in (back, front):
        cv2.circle(mask, (int(round(x)), int(round(y))), wheel, 1, thickness)
    # Frame: seat and handle-bar posts above the axles, joined to both wheels.
    seat = (cx - 0.2 * r * c + 0.9 * wheel * s,
            cy - 0.2 * r * s - 0.9 * wheel * c)
    bar = (front[0] - 0.15 * r * c + 1.1 * wheel * s,
           front[1] - 0.15 * r * s - 1.1 * wheel * c)
    crank = (cx, cy)
    for p, q in ((back, seat), (seat, crank), (crank, back), (seat, bar),
                 (bar, front), (crank, bar)):
        cv2.line(mask, (int(round(p[0])), int(round(p[1]))),
                 (int(round(q[0])), int(round(q[1]))), 1, thickness)


class Canvas:
    """An image being painted back to front, with its label and instance maps.

    Attributes:
        image: (H, W, 3) float32 RGB.
        label: (H, W) uint8 class id of the top-most painted region.
        instance: (H, W) int32 id of the top-most instance, 0 for none. Ids
            count up in painting order, so they are also the depth.
    """

    def __init__(self, background: np.ndarray, fill_label: int = 0):
        self.height, self.width = background.shape[:2]
        self.image = background.astype(np.float32)
        self.label = np.full((self.height, self.width), fill_label, np.uint8)
        self.instance = np.zeros((self.height, self.width), np.int32)
        self.num_instances = 0

    def paint(self, mask: np.ndarray, texture: np.ndarray, label: int) -> int:
        """Paint ``texture`` where ``mask`` is set; return the new instance
        id."""
        m = mask.astype(bool)
        self.num_instances += 1
        self.image[m] = texture[m]
        self.label[m] = label
        self.instance[m] = self.num_instances
        return self.num_instances

    def visible(self, instance_id: int) -> np.ndarray:
        """Visible (not occluded) mask (H, W) uint8 of an instance."""
        return (self.instance == instance_id).astype(np.uint8)

    def occlusion_border(self, width: int = 1) -> np.ndarray:
        """Pixels within ``width`` px outside a later-painted instance, (H, W)
        bool.

        This is VOC's object outline: a band around every object, over what is
        behind it, that leaves the object's own pixels (and thin strokes)
        intact.
        """
        depth = self.instance.astype(np.float32)
        kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
        return cv2.dilate(depth, kernel) > depth

    def to_uint8(self, rng: np.random.Generator, blur: float = 0.6,
                 noise: float = 3.0) -> np.ndarray:
        """Final (H, W, 3) uint8 RGB image: lens blur, a global gain and
        noise."""
        image = self.image
        if blur > 0:
            image = cv2.GaussianBlur(image, (0, 0), blur)
        gain = rng.uniform(0.85, 1.15)
        bias = rng.uniform(-12, 12)
        image = image * gain + bias
        image = image + rng.normal(0, noise, image.shape).astype(np.float32)
        return np.clip(np.round(image), 0, 255).astype(np.uint8)


def random_background(rng: np.random.Generator, height: int,
                      width: int) -> np.ndarray:
    """Textured clutter (H, W, 3) float32: a colour field, a faint pattern and
    2-4 unlabelled distractor shapes whose textures overlap the classes'."""
    base = rng.uniform(50, 200, 3).astype(np.float32)
    field = low_freq_field(rng, height, width, 4, 3) * 30.0
    texture = rng.choice(TEXTURES)
    look = Appearance(tuple(base), 0.0, str(texture), (5.0, 14.0),
                      rng.uniform(0.05, 0.2))
    image = render_texture(rng, height, width, look) + field
    short = min(height, width)
    for _ in range(int(rng.integers(2, 5))):
        kind = str(rng.choice(['blob', 'ellipse', 'polygon']))
        center = (rng.uniform(0, width), rng.uniform(0, height))
        mask = shape_mask(rng, height, width, kind, center,
                          rng.uniform(0.2, 0.5) * short).astype(bool)
        look = Appearance(tuple(rng.uniform(30, 230, 3)), 0.0,
                          str(rng.choice(['smooth', 'noise'])), (5.0, 10.0),
                          rng.uniform(0.1, 0.3))
        image[mask] = render_texture(rng, height, width, look)[mask]
    return np.clip(image, 0, 255).astype(np.float32)


def place_objects(rng: np.random.Generator, canvas: Canvas,
                  classes: Sequence[ObjectClass], present: Sequence[bool],
                  thickness: int) -> list:
    """Paint the instances of the present classes in a random order.

    Half of the instances are placed near an earlier one so that objects
    overlap; classes with ``frequency < 0.25`` (the rare ones) go last, on
    top. Returns ``[(instance_id, ObjectClass), ...]`` in painting order.
    """
    h, w = canvas.height, canvas.width
    short = min(h, w)
    jobs = []
    for cls, on in zip(classes, present):
        if on:
            jobs += [cls] * int(rng.integers(cls.count[0], cls.count[1] + 1))
    order = rng.permutation(len(jobs))
    jobs = sorted((jobs[i] for i in order), key=lambda c: c.frequency < 0.25)
    painted, centers = [], []
    for cls in jobs:
        extent = rng.uniform(*cls.size) * short
        if centers and rng.random() < 0.5:
            anchor = centers[int(rng.integers(len(centers)))]
            center = np.clip(anchor + rng.normal(0, 0.25 * short, 2),
                             [0.1 * w, 0.1 * h], [0.9 * w, 0.9 * h])
        else:
            center = rng.uniform([0.12 * w, 0.12 * h], [0.88 * w, 0.88 * h])
        mask = shape_mask(rng, h, w, cls.shape, tuple(center), extent,
                          thickness)
        if not mask.any():
            continue
        texture = render_texture(rng, h, w, cls.appearance)
        painted.append((canvas.paint(mask, texture, cls.label), cls))
        centers.append(np.asarray(center))
    return painted


def stroke_thickness(width: int, height: int) -> int:
    """Stroke width of thin structures: 2 px up to a 96-px short side, then
    more."""
    return max(2, int(round(min(width, height) / 48)))
