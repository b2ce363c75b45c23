"""Face portraits rendered from :class:`FaceTraits`, with per-image pose, light and expression.

A face is drawn with Pillow in a canonical frame (unit square, y down, face centred) on a
supersampled canvas: back hair, neck and clothes, ears, the head outline (a smooth curve whose
jaw and chin follow ``jaw_width`` and ``face_length``), sphere-like shading, stubble or beard,
wrinkles, eyes, brows, nose, mouth (closed, smiling or open), moustache, front hair and
glasses. The layer is then rotated, scaled and shifted, composited over a gradient background,
box-filtered down to the output size (which anti-aliases every edge), lit from a drawn
direction and given a little sensor noise. Only :class:`FaceTraits` and the image's own
random generator are read, so a face says nothing about a voice except through the traits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from voice2face.data.synthvox.traits import EYE_COLOURS, GLASSES_FRAMES, HAIR_COLOURS, FaceTraits

Point = tuple[float, float]
SKIN_PALETTE = np.array([[244, 214, 192], [226, 182, 150], [196, 146, 108], [150, 100, 70], [96, 62, 44]], float)
EXPRESSIONS = ("neutral", "smile", "open")
#: How much the canonical drawing is enlarged: the face fills the frame, as in aligned crops.
FRAMING = 1.12


@dataclass(frozen=True)
class FaceNuisance:
    """What varies between images of one person: pose, light, expression, backdrop, clothes."""

    rotation_deg: float
    scale: float
    shift: tuple[float, float]  # fraction of the image
    light_direction: tuple[float, float]  # unit vector in the image plane
    light_strength: float
    brightness: float
    colour_cast: tuple[float, float, float]
    expression: str
    gaze: float  # iris shift, fraction of eye width
    background: tuple[tuple[int, int, int], tuple[int, int, int]]
    clothing: tuple[int, int, int]


def draw_nuisance(rng: np.random.Generator) -> FaceNuisance:
    """Per-image variation: small rotation (±12°), scale (±~10%), shift (±~5%), light, expression."""
    angle = rng.uniform(0.0, 2.0 * math.pi)
    top = _muted(rng, rng.uniform(50.0, 220.0), 22.0)
    bottom = tuple(int(v * rng.uniform(0.6, 1.0)) for v in top)
    return FaceNuisance(
        rotation_deg=float(np.clip(rng.normal(0.0, 5.0), -12.0, 12.0)),
        scale=float(np.exp(np.clip(rng.normal(0.0, 0.05), -0.1, 0.1))),
        shift=(float(np.clip(rng.normal(0.0, 0.025), -0.05, 0.05)), float(np.clip(rng.normal(0.0, 0.02), -0.04, 0.04))),
        light_direction=(math.cos(angle), math.sin(angle)),
        light_strength=float(rng.uniform(0.0, 0.3)),
        brightness=float(np.exp(rng.normal(0.0, 0.1))),
        colour_cast=tuple(float(v) for v in rng.normal(0.0, 0.03, size=3)),
        expression=EXPRESSIONS[int(rng.choice(3, p=[0.45, 0.35, 0.2]))],
        gaze=float(np.clip(rng.normal(0.0, 0.12), -0.25, 0.25)),
        background=(top, bottom),
        clothing=_muted(rng, rng.uniform(25.0, 200.0), 40.0),
    )


def _muted(rng: np.random.Generator, grey: float, tint: float) -> tuple[int, int, int]:
    """A colour near grey level ``grey`` with a random tint of about ``tint`` per channel."""
    return tuple(int(np.clip(grey + tint * v, 0, 255)) for v in rng.standard_normal(3))


def skin_colour(tone: float) -> np.ndarray:
    """RGB of a skin tone 0 (lightest) … 1 (darkest), interpolated along a palette."""
    position = float(np.clip(tone, 0.0, 1.0)) * (len(SKIN_PALETTE) - 1)
    low = min(int(position), len(SKIN_PALETTE) - 2)
    return SKIN_PALETTE[low] + (position - low) * (SKIN_PALETTE[low + 1] - SKIN_PALETTE[low])


def hair_colour(face: FaceTraits) -> np.ndarray:
    """RGB of the hair: the drawn colour mixed toward silver by greyness."""
    base = np.array(HAIR_COLOURS[face.hair_colour][0], float)
    grey = float(np.clip(face.greyness, 0.0, 1.0))
    return (1.0 - grey) * base + grey * np.array([205.0, 203.0, 198.0])


def _rgb(colour: np.ndarray | tuple, alpha: int = 255) -> tuple[int, int, int, int]:
    r, g, b = (int(np.clip(round(float(v)), 0, 255)) for v in colour)
    return r, g, b, alpha


_SPAN_CACHE: dict[int, np.ndarray] = {}


def _catmull_rom(points: list[Point], samples: int = 8, closed: bool = True) -> np.ndarray:
    """A smooth curve through ``points`` (Catmull–Rom), ``samples`` points per span: ``[P, 2]``."""
    pts = np.asarray(points, float)
    pts = np.concatenate([pts[-1:], pts, pts[:2]]) if closed else np.concatenate([pts[:1], pts, pts[-1:]])
    basis = _SPAN_CACHE.get(samples)
    if basis is None:  # the four Catmull–Rom weights at each sample of a span: [samples, 4]
        t = np.linspace(0.0, 1.0, samples, endpoint=False)[:, None]
        basis = 0.5 * np.concatenate(
            [-t + 2 * t**2 - t**3, 2 - 5 * t**2 + 3 * t**3, t + 4 * t**2 - 3 * t**3, -(t**2) + t**3], axis=1
        )
        _SPAN_CACHE[samples] = basis
    windows = np.stack([pts[:-3], pts[1:-2], pts[2:-1], pts[3:]], axis=1)  # [spans, 4, 2]
    curve = np.einsum("sk,nkd->nsd", basis, windows).reshape(-1, 2)
    return np.concatenate([curve, pts[-2:-1]]) if not closed else curve


class _Canvas:
    """Draws in unit coordinates, through the image's pose, onto a supersampled RGB image.

    Shapes are blended (their alpha is honoured); ellipses become polygons so that they rotate
    with the rest of the face.
    """

    def __init__(self, image: Image.Image, nuisance: FaceNuisance) -> None:
        self.size = image.size[0]
        self.image = image
        self.draw = ImageDraw.Draw(image, "RGBA")
        angle = math.radians(nuisance.rotation_deg)
        zoom = FRAMING * nuisance.scale
        self.matrix = zoom * np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        self.offset = np.array([0.5 + nuisance.shift[0], 0.5 + nuisance.shift[1]])
        self.line_scale = zoom

    def px(self, points: list[Point] | np.ndarray) -> list[float]:
        """Unit-square points ``[P, 2]`` → flat pixel coordinates ``[x0, y0, x1, ...]`` after the pose."""
        unit = (np.asarray(points, float) - 0.5) @ self.matrix.T + self.offset  # [P, 2]
        return (unit * self.size).ravel().tolist()

    def polygon(self, points: list[Point] | np.ndarray, fill: tuple) -> None:
        self.draw.polygon(self.px(points), fill=fill)

    def ellipse(self, centre: Point, rx: float, ry: float, fill: tuple) -> None:
        t = np.linspace(0.0, 2.0 * np.pi, 40, endpoint=False)
        self.polygon(np.stack([centre[0] + rx * np.cos(t), centre[1] + ry * np.sin(t)], axis=1), fill)

    def line(self, points: list[Point] | np.ndarray, fill: tuple, width: float) -> None:
        pixels = max(1, round(width * self.line_scale * self.size))
        self.draw.line(self.px(points), fill=fill, width=pixels, joint="curve")


@dataclass(frozen=True)
class _Geometry:
    """Landmarks of one face in the canonical frame (unit square)."""

    cx: float
    half_width: float  # at the cheekbones
    top: float  # skull top
    cheek_y: float
    chin_y: float
    jaw_half: float
    chin_half: float
    eye_y: float
    eye_dx: float
    eye_w: float
    eye_h: float
    nose_y: float
    nose_w: float
    mouth_y: float
    mouth_w: float

    def outline(self) -> np.ndarray:
        """The head contour, clockwise from the skull top."""
        cx, w = self.cx, self.half_width
        jaw_y = self.cheek_y + 0.62 * (self.chin_y - self.cheek_y)
        right = [
            (cx + 0.80 * w, self.top + 0.05),
            (cx + 1.00 * w, self.top + 0.17),
            (cx + 1.02 * w, self.cheek_y - 0.04),
            (cx + 0.98 * w, self.cheek_y + 0.03),
            (cx + self.jaw_half, jaw_y),
            (cx + self.chin_half, self.chin_y - 0.025),
        ]
        left = [(2 * cx - x, y) for x, y in reversed(right)]
        return _catmull_rom([(cx, self.top), *right, (cx, self.chin_y), *left], samples=10)


def _geometry(face: FaceTraits) -> _Geometry:
    scale = 1.0 + face.head_size
    cx, cy = 0.5, 0.5
    half_width = 0.235 * scale
    top = cy - 0.345 * scale
    chin_y = cy + (0.305 + 0.022 * face.face_length) * scale
    eye_y = cy - 0.035 * scale
    lower = chin_y - eye_y
    return _Geometry(
        cx=cx,
        half_width=half_width,
        top=top,
        cheek_y=eye_y + 0.06 * scale,
        chin_y=chin_y,
        jaw_half=half_width * float(np.clip(0.79 + 0.09 * face.jaw_width, 0.58, 0.99)),
        chin_half=half_width * float(np.clip(0.35 + 0.08 * face.jaw_width, 0.18, 0.58)),
        eye_y=eye_y,
        eye_dx=(0.098 + 0.006 * face.eye_spacing) * scale,
        eye_w=(0.043 + 0.003 * face.eye_size) * scale,
        eye_h=(0.018 + 0.0015 * face.eye_size) * scale,
        nose_y=eye_y + lower * (0.40 + 0.025 * face.nose_length),
        nose_w=(0.030 + 0.003 * face.nose_width) * scale,
        mouth_y=eye_y + lower * 0.62,
        mouth_w=(0.056 + 0.004 * face.mouth_width) * scale,
    )


def render_face(
    face: FaceTraits, rng: np.random.Generator, resolution: int = 64, nuisance: FaceNuisance | None = None
) -> np.ndarray:
    """One image of the person with ``face`` traits: uint8 ``[resolution, resolution, 3]`` RGB.

    ``nuisance`` (pose, light, expression...) is drawn from ``rng`` unless given.
    """
    nuisance = nuisance or draw_nuisance(rng)
    supersample = 4 if resolution <= 96 else 3 if resolution <= 160 else 2
    canvas = _Canvas(_background(nuisance, resolution * supersample), nuisance)
    _draw_face(canvas, face, nuisance)
    small = np.asarray(canvas.image.reduce(supersample), dtype=np.float64)  # [R, R, 3], box-filtered
    small = _light(small, nuisance)
    small += rng.normal(0.0, 1.5, size=small.shape)  # sensor noise
    return np.clip(np.round(small), 0, 255).astype(np.uint8)


def _draw_face(canvas: _Canvas, face: FaceTraits, nuisance: FaceNuisance) -> None:
    g = _geometry(face)
    skin = skin_colour(face.skin_tone)
    hair = hair_colour(face)
    _back_hair(canvas, face, g, hair)
    _neck_and_clothes(canvas, face, g, skin, nuisance.clothing)
    _ears(canvas, face, g, skin)
    _head(canvas, g, skin)
    if face.sex == "female":  # a little blush on the cheeks
        for side in (-1, 1):
            canvas.ellipse((g.cx + side * 0.6 * g.half_width, g.cheek_y + 0.02), 0.045, 0.028, (215, 90, 100, 35))
    _beard(canvas, face, g, hair, under_mouth=True)
    _wrinkles(canvas, face, g, skin)
    _eyes(canvas, face, g, nuisance)
    _brows(canvas, face, g, hair)
    _nose(canvas, g, skin)
    _mouth(canvas, face, g, skin, nuisance.expression)
    _beard(canvas, face, g, hair, under_mouth=False)
    _front_hair(canvas, face, g, hair)
    if face.glasses:
        _glasses(canvas, face, g)


def _back_hair(canvas: _Canvas, face: FaceTraits, g: _Geometry, hair: np.ndarray) -> None:
    cx, w = g.cx, g.half_width
    colour = _rgb(hair * 0.85)
    if face.hair_style == "long":
        points = [
            (cx, g.top - 0.035),
            (cx + 1.12 * w, g.top + 0.12),
            (cx + 1.25 * w, g.chin_y),
            (cx + 1.35 * w, 1.05),
            (cx - 1.35 * w, 1.05),
            (cx - 1.25 * w, g.chin_y),
            (cx - 1.12 * w, g.top + 0.12),
        ]
        canvas.polygon(_catmull_rom(points), colour)
    elif face.hair_style == "medium":
        points = [
            (cx, g.top - 0.03),
            (cx + 1.15 * w, g.top + 0.12),
            (cx + 1.18 * w, g.chin_y - 0.06),
            (cx + 0.9 * w, g.chin_y - 0.02),
            (cx - 0.9 * w, g.chin_y - 0.02),
            (cx - 1.18 * w, g.chin_y - 0.06),
            (cx - 1.15 * w, g.top + 0.12),
        ]
        canvas.polygon(_catmull_rom(points), colour)
    elif face.hair_style == "bun":
        canvas.ellipse((cx, g.top - 0.02), 0.075, 0.06, colour)


def _neck_and_clothes(
    canvas: _Canvas, face: FaceTraits, g: _Geometry, skin: np.ndarray, clothing: tuple[int, int, int]
) -> None:
    cx, w = g.cx, g.half_width
    half_neck = 0.62 * w if face.sex == "male" else 0.46 * w
    neck = [(cx - half_neck, g.cheek_y + 0.1), (cx + half_neck, g.cheek_y + 0.1)]
    neck += [(cx + 1.08 * half_neck, 1.0), (cx - 1.08 * half_neck, 1.0)]
    canvas.polygon(neck, _rgb(skin * 0.86))
    canvas.polygon(  # the chin's shadow on the neck
        _catmull_rom([(cx - 0.55 * w, g.chin_y - 0.05), (cx, g.chin_y + 0.05), (cx + 0.55 * w, g.chin_y - 0.05)]),
        _rgb(skin * 0.7, 160),
    )
    shoulders = [
        (cx - 2.2 * w, 1.1),
        (cx - 1.8 * w, g.chin_y + 0.14),
        (cx, g.chin_y + 0.1),
        (cx + 1.8 * w, g.chin_y + 0.14),
    ]
    shoulders.append((cx + 2.2 * w, 1.1))
    canvas.polygon(_catmull_rom(shoulders), _rgb(clothing))
    collar = [(cx - 0.5 * w, g.chin_y + 0.1), (cx, g.chin_y + 0.2), (cx + 0.5 * w, g.chin_y + 0.1)]
    canvas.polygon(collar, _rgb(skin * 0.82))


def _ears(canvas: _Canvas, face: FaceTraits, g: _Geometry, skin: np.ndarray) -> None:
    ry = 0.052 + 0.005 * face.ear_size
    for side in (-1, 1):
        centre = (g.cx + side * (g.half_width + 0.005), g.eye_y + 0.035)
        canvas.ellipse(centre, 0.028, ry, _rgb(skin * 0.93))
        canvas.ellipse((centre[0] + side * 0.006, centre[1]), 0.012, 0.6 * ry, _rgb(skin * 0.75, 150))


def _head(canvas: _Canvas, g: _Geometry, skin: np.ndarray) -> None:
    """The head in nested layers, darker at the rim, so that it reads as round, not flat."""
    outline = np.asarray(g.outline())  # [P, 2]
    centre = np.array([g.cx, g.cheek_y])
    for step in range(6):
        shrink = 1.0 - 0.028 * step
        shade = 0.86 + 0.028 * step
        canvas.polygon(centre + (outline - centre) * shrink, _rgb(skin * shade))


def _beard(canvas: _Canvas, face: FaceTraits, g: _Geometry, hair: np.ndarray, *, under_mouth: bool) -> None:
    cx, w = g.cx, g.half_width
    shaved = face.sex == "male" and face.facial_hair in ("none", "moustache")
    if under_mouth and (face.facial_hair in ("stubble", "beard", "goatee") or shaved):
        jaw_y = g.cheek_y + 0.62 * (g.chin_y - g.cheek_y)
        points = [
            (cx + 0.98 * w, g.cheek_y + 0.01),
            (cx + g.jaw_half, jaw_y),
            (cx + g.chin_half, g.chin_y - 0.025),
            (cx, g.chin_y + (0.012 if face.facial_hair == "beard" else 0.0)),
            (cx - g.chin_half, g.chin_y - 0.025),
            (cx - g.jaw_half, jaw_y),
            (cx - 0.98 * w, g.cheek_y + 0.01),
            (cx - 0.7 * w, g.nose_y + 0.02),
            (cx - g.mouth_w * 1.3, g.mouth_y - 0.035),
            (cx, g.nose_y + 0.03),
            (cx + g.mouth_w * 1.3, g.mouth_y - 0.035),
            (cx + 0.7 * w, g.nose_y + 0.02),
        ]
        alpha = {"beard": 235, "stubble": 90}.get(face.facial_hair, 40)  # else: a shaved man's shadow
        colour = hair * 0.9 if face.facial_hair == "beard" else np.minimum(hair, 90) * 0.6
        canvas.polygon(_catmull_rom(points), _rgb(colour, alpha))
    if not under_mouth and face.facial_hair in ("moustache", "beard", "goatee"):
        top, bottom = g.nose_y + 0.022, g.mouth_y - 0.004
        mw = g.mouth_w * 1.15
        points = [(cx, top), (cx + mw, bottom + 0.006), (cx + 0.7 * mw, bottom), (cx, bottom - 0.006)]
        points += [(cx - 0.7 * mw, bottom), (cx - mw, bottom + 0.006)]
        canvas.polygon(_catmull_rom(points, 6), _rgb(hair * 0.85, 240))
        if face.facial_hair == "goatee":
            points = [(cx - 0.6 * g.mouth_w, g.mouth_y + 0.022), (cx + 0.6 * g.mouth_w, g.mouth_y + 0.022)]
            points += [
                (cx + 0.5 * g.mouth_w, g.chin_y - 0.005),
                (cx, g.chin_y + 0.01),
                (cx - 0.5 * g.mouth_w, g.chin_y),
            ]
            canvas.polygon(_catmull_rom(points, 6), _rgb(hair * 0.85, 240))


def _wrinkles(canvas: _Canvas, face: FaceTraits, g: _Geometry, skin: np.ndarray) -> None:
    amount = float(np.clip(face.wrinkles, 0.0, 1.0))
    cx, w = g.cx, g.half_width
    line = skin * 0.62
    fold_alpha = int(40 + 150 * amount)
    for side in (-1, 1):  # nasolabial folds: faint when young, deep when old
        start = (cx + side * (g.nose_w + 0.012), g.nose_y - 0.01)
        mid = (cx + side * (g.nose_w + 0.03), g.nose_y + 0.03)
        end = (cx + side * (g.mouth_w + 0.012), g.mouth_y + 0.012 + 0.01 * amount)
        canvas.line(_catmull_rom([start, mid, end], 6, closed=False), _rgb(line, fold_alpha), 0.005)
    if amount < 0.15:
        return
    alpha = int(200 * amount)
    for k in range(1 + int(3 * amount)):  # forehead lines
        y = g.eye_y - 0.085 - 0.022 * k
        canvas.line(
            _catmull_rom([(cx - 0.55 * w, y + 0.008), (cx, y), (cx + 0.55 * w, y + 0.008)], 6, closed=False),
            _rgb(line, alpha),
            0.004,
        )
    for side in (-1, 1):  # crow's feet and bags under the eyes
        ex = cx + side * (g.eye_dx + g.eye_w + 0.006)
        for dy in (-0.012, 0.0, 0.012):
            canvas.line([(ex, g.eye_y + dy * 0.5), (ex + side * 0.022, g.eye_y + dy * 1.4)], _rgb(line, alpha), 0.003)
        centre_x = cx + side * g.eye_dx
        bag = [(centre_x - g.eye_w * 0.8, g.eye_y + 0.022), (centre_x, g.eye_y + 0.034)]
        bag.append((centre_x + g.eye_w * 0.8, g.eye_y + 0.022))
        canvas.line(_catmull_rom(bag, 6, closed=False), _rgb(line, alpha), 0.0035)


def _eyes(canvas: _Canvas, face: FaceTraits, g: _Geometry, nuisance: FaceNuisance) -> None:
    iris_colour = np.array(EYE_COLOURS[face.eye_colour][0], float)
    squint = 0.75 if nuisance.expression == "smile" else 1.0
    female = face.sex == "female"
    for side in (-1, 1):
        ex, ey = g.cx + side * g.eye_dx, g.eye_y
        w, h = g.eye_w, g.eye_h * squint
        upper = [(ex - w, ey), (ex - 0.4 * w, ey - 1.15 * h), (ex + 0.45 * w, ey - 1.05 * h), (ex + w, ey)]
        lower = [(ex + 0.4 * w, ey + 0.8 * h), (ex - 0.4 * w, ey + 0.8 * h)]
        almond = _catmull_rom(upper + lower, 6)
        canvas.polygon(almond, (240, 236, 230, 255))
        iris_x = ex + nuisance.gaze * w
        radius = 0.95 * g.eye_h
        canvas.ellipse((iris_x, ey - 0.1 * h), 0.55 * w, radius, _rgb(iris_colour))
        canvas.ellipse((iris_x, ey - 0.1 * h), 0.25 * w, 0.45 * radius, (15, 12, 12, 255))
        canvas.ellipse((iris_x + 0.15 * w, ey - 0.45 * h), 0.1 * w, 0.18 * radius, (255, 255, 255, 230))
        lid = _catmull_rom(upper, 6, closed=False)
        if female:  # eye shadow on the lid
            shadow = [
                (ex - 1.05 * w, ey - 0.2 * h),
                (ex, ey - 2.3 * h),
                (ex + 1.1 * w, ey - 0.3 * h),
                (ex, ey - 0.9 * h),
            ]
            canvas.polygon(_catmull_rom(shadow, 6), (110, 70, 90, 70))
        canvas.line(lid, (30, 20, 20, 255), 0.009 if female else 0.005)
        if female:  # lashes flick outward at the outer corner
            corner = (ex + side * w, ey)
            canvas.line([corner, (corner[0] + side * 0.012, corner[1] - 0.01)], (30, 20, 20, 255), 0.004)
        crease = [(ex - 0.8 * w, ey - 1.3 * h), (ex, ey - 1.9 * h), (ex + 0.8 * w, ey - 1.3 * h)]
        canvas.line(_catmull_rom(crease, 6, closed=False), (90, 55, 45, 90), 0.003)
        lower_lid = _catmull_rom([(ex - w, ey), *lower[::-1], (ex + w, ey)], 6, closed=False)
        canvas.line(lower_lid, (120, 80, 70, 90), 0.0025)


def _brows(canvas: _Canvas, face: FaceTraits, g: _Geometry, hair: np.ndarray) -> None:
    thickness = float(np.clip(0.011 + 0.0035 * face.brow_thickness, 0.005, 0.02))
    female = face.sex == "female"
    arch = 0.018 if female else 0.006
    colour = _rgb(np.minimum(hair, 150) * 0.8, 235)
    for side in (-1, 1):
        ex = g.cx + side * g.eye_dx
        y = g.eye_y - (0.05 if female else 0.04)
        inner, outer = ex - side * 1.05 * g.eye_w, ex + side * 1.15 * g.eye_w
        peak = ex + side * 0.3 * g.eye_w
        upper = [(inner, y), (peak, y - arch - thickness), (outer, y + 0.004)]
        lower = [(outer, y + 0.004 + 0.3 * thickness), (peak, y - arch), (inner, y + thickness)]
        canvas.polygon(_catmull_rom(upper + lower, 5), colour)


def _nose(canvas: _Canvas, g: _Geometry, skin: np.ndarray) -> None:
    cx, y, nw = g.cx, g.nose_y, g.nose_w
    shadow = _rgb(skin * 0.7, 170)
    bridge = [(cx - 0.3 * nw, g.eye_y + 0.02), (cx - 0.45 * nw, y - 0.03), (cx - 0.8 * nw, y)]
    canvas.line(_catmull_rom(bridge, 5, closed=False), _rgb(skin * 0.8, 110), 0.004)  # the nose's side
    canvas.ellipse((cx, y + 0.004), 0.9 * nw, 0.014, _rgb(skin * 0.9, 200))
    for side in (-1, 1):
        canvas.ellipse((cx + side * 0.45 * nw, y + 0.008), 0.24 * nw, 0.006, shadow)
    canvas.ellipse((cx, y - 0.004), 0.35 * nw, 0.008, _rgb(np.minimum(skin * 1.08, 255), 120))  # highlight


def _mouth(canvas: _Canvas, face: FaceTraits, g: _Geometry, skin: np.ndarray, expression: str) -> None:
    cx, y, mw = g.cx, g.mouth_y, g.mouth_w
    tint = 0.45 + 0.35 * face.lip_tint if face.sex == "female" else 0.15 + 0.2 * face.lip_tint
    lip = (1 - tint) * skin + tint * np.array([175.0, 70.0, 80.0])
    fullness = float(np.clip(1.0 + 0.25 * face.lip_fullness, 0.5, 1.6))
    upper_h, lower_h = 0.011 * fullness, 0.014 * fullness
    lift = {"neutral": 0.0, "smile": 0.014, "open": 0.004}[expression]
    width = mw * (1.12 if expression == "smile" else 1.0)
    gap = 0.018 if expression == "open" else 0.0
    left, right = (cx - width, y - lift), (cx + width, y - lift)
    if gap:
        mouth_hole = [left, (cx, y - 0.004), right, (cx, y + gap + 0.006)]
        canvas.polygon(_catmull_rom(mouth_hole, 6), (70, 20, 25, 255))
        canvas.polygon(  # upper teeth
            _catmull_rom([(cx - 0.6 * width, y - 0.002), (cx + 0.6 * width, y - 0.002), (cx, y + 0.008)], 5),
            (235, 230, 220, 255),
        )
    upper = [left, (cx - 0.35 * width, y - upper_h), (cx, y - 0.75 * upper_h), (cx + 0.35 * width, y - upper_h)]
    upper += [right, (cx, y + 0.002 * (1 if not gap else -1))]
    canvas.polygon(_catmull_rom(upper, 5), _rgb(lip * 0.92))
    bottom = y + gap
    lower = [
        right,
        (cx + 0.5 * width, bottom + 0.7 * lower_h),
        (cx, bottom + lower_h),
        (cx - 0.5 * width, bottom + 0.7 * lower_h),
    ]
    lower += [left, (cx, bottom + 0.001)]
    canvas.polygon(_catmull_rom(lower, 5), _rgb(lip))
    smile_curve = [left, (cx, y + (0.006 if expression == "smile" else 0.001)), right]
    canvas.line(_catmull_rom(smile_curve, 6, closed=False), _rgb(lip * 0.55, 230), 0.003)


def _front_hair(canvas: _Canvas, face: FaceTraits, g: _Geometry, hair: np.ndarray) -> None:
    style = face.hair_style
    cx, w = g.cx, g.half_width
    if style == "bald":
        for side in (-1, 1):  # a fringe of hair above the ears
            x = cx + side * 1.0 * w
            patch = [(x, g.eye_y - 0.05), (x + side * 0.015, g.eye_y), (x, g.eye_y + 0.04), (x - side * 0.02, g.eye_y)]
            canvas.polygon(_catmull_rom(patch, 4), _rgb(hair, 200))
        return
    thickness = {"buzz": 0.008, "short": 0.028, "medium": 0.04, "long": 0.035, "bun": 0.018}[style]
    hairline = {"buzz": 0.085, "short": 0.075, "medium": 0.07, "long": 0.06, "bun": 0.085}[style]
    side_bottom = {"buzz": g.eye_y - 0.02, "short": g.eye_y, "medium": g.chin_y - 0.09, "long": g.chin_y - 0.04}
    bottom = side_bottom.get(style, g.eye_y - 0.02)
    top = g.top - thickness
    outer_w = w + thickness * 0.8
    parting = 0.03 * face.hair_parting
    inner_top = g.top + hairline
    points = [
        (cx + outer_w * 1.02, bottom),
        (cx + outer_w * 1.06, g.top + 0.14),
        (cx + 0.75 * outer_w, top + 0.04),
        (cx, top),
        (cx - 0.75 * outer_w, top + 0.04),
        (cx - outer_w * 1.06, g.top + 0.14),
        (cx - outer_w * 1.02, bottom),
        (cx - w * 0.93, bottom),
        (cx - w * 0.92, inner_top + 0.06),
        (cx - 0.5 * w + parting, inner_top + 0.01),
        (cx + parting, inner_top - 0.01),
        (cx + 0.5 * w + parting, inner_top + 0.012),
        (cx + w * 0.92, inner_top + 0.06),
        (cx + w * 0.93, bottom),
    ]
    alpha = 150 if style == "buzz" else 255
    canvas.polygon(_catmull_rom(points, 6), _rgb(hair, alpha))
    if style != "buzz":  # strands: a few darker strokes give the hair texture
        for k in (-0.5, -0.2, 0.15, 0.45):
            x = cx + k * w + parting
            strand = [(x, top + 0.03), (x + 0.03 * k, inner_top - 0.03), (x + 0.08 * k, inner_top + 0.005)]
            canvas.line(_catmull_rom(strand, 4, closed=False), _rgb(hair * 0.75, 150), 0.004)


def _glasses(canvas: _Canvas, face: FaceTraits, g: _Geometry) -> None:
    colour = GLASSES_FRAMES[face.glasses_frame] + (255,)
    half_w, half_h = 1.45 * g.eye_w, 0.031
    for side in (-1, 1):
        ex, ey = g.cx + side * g.eye_dx, g.eye_y + 0.001
        corners = [(ex - half_w, ey - half_h), (ex + half_w, ey - half_h), (ex + half_w, ey + half_h)]
        corners.append((ex - half_w, ey + half_h))
        rim = _catmull_rom(corners, 8)
        canvas.polygon(rim, (255, 255, 255, 30))  # the lens catches a little light
        canvas.line(np.concatenate([rim, rim[:1]]), colour, 0.006)
        temple_x = g.cx + side * (g.half_width + 0.01)
        canvas.line([(ex + side * half_w, ey - 0.02), (temple_x, ey - 0.025)], colour, 0.005)
    bridge = [(g.cx - g.eye_dx + half_w, g.eye_y - 0.01), (g.cx, g.eye_y - 0.018)]
    bridge.append((g.cx + g.eye_dx - half_w, g.eye_y - 0.01))
    canvas.line(_catmull_rom(bridge, 4, closed=False), colour, 0.005)


def _background(nuisance: FaceNuisance, size: int) -> Image.Image:
    top, bottom = (np.array(c, float) for c in nuisance.background)
    ramp = np.linspace(0.0, 1.0, size)[:, None, None]
    gradient = (1 - ramp) * top + ramp * bottom  # [S, 1, 3]
    pixels = np.broadcast_to(gradient, (size, size, 3)).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels), "RGB")


def _light(image: np.ndarray, nuisance: FaceNuisance) -> np.ndarray:
    """Directional light, brightness and colour cast on ``[R, R, 3]`` floats 0–255."""
    size = image.shape[0]
    coords = (np.arange(size) + 0.5) / size - 0.5
    lx, ly = nuisance.light_direction
    ramp = coords[None, :] * lx + coords[:, None] * ly  # [R, R], −0.7 … 0.7
    gain = nuisance.brightness * (1.0 + nuisance.light_strength * 2.0 * ramp)
    cast = 1.0 + np.array(nuisance.colour_cast)
    return image * gain[:, :, None] * cast[None, None, :]
