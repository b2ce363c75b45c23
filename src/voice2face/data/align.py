"""Face alignment for prepared datasets: find the subject, place their landmarks on a template.

- Detection and landmarks come from dlib (``dlib-bin``) with the models that the
  ``face-recognition-models`` wheel ships: the HOG frontal-face detector, the 5-point predictor
  (two corners of each eye and the base of the nose) and the 68-point predictor.
- :func:`choose_subject`: of several detections, the subject is the largest face when it clearly
  dominates (area ≥ :data:`AREA_DOMINANCE` × the next), or else the most confident one when its
  detector score leads every other by ≥ :data:`SCORE_MARGIN`; otherwise there is no clear subject
  and the image is skipped (a crowd, or a false detection as large as the face).
- **The paper's crops** (:meth:`FaceAligner.crop`): a similarity transform (rotation, uniform
  scale, shift; least squares over the 5 points) takes the landmarks onto :data:`TEMPLATE_5`, a
  canonical 5-point layout in unit coordinates, and the image is resampled at ``size`` px.
- **High-resolution crops** (:meth:`FaceAligner.crop_hq`): the FFHQ alignment's geometry (Karras
  et al. 2019, the FFHQ dataset's published procedure), from the 68-point eyes and mouth corners:
  an oriented square centred a tenth of the eye-to-mouth vector below the eyes' midpoint, of half
  side max(2 × eye distance, 1.8 × eye-to-mouth distance).

Images are ``[H, W, 3]`` uint8 RGB arrays (what dlib and PIL use); landmarks ``[K, 2]`` float (x, y)
in pixels. Nothing here reads or writes files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from voice2face.errors import DatasetError
from voice2face.utils.dlib_models import FACES_EXTRA_INSTALL, import_dlib

#: The canonical 5-point layout, (x, y) in units of the crop's side, in dlib's point order:
#: the eye on the image's right (outer corner, inner corner), the eye on its left (outer, inner),
#: the base of the nose. Eye centres at x = 0.37 / 0.63, y = 0.42 (26% of the side apart); the corners
#: ±20% of that distance from the centres and the nose 77% of it below the eye line, the proportions
#: of an average frontal face (measured on scikit-image's astronaut photo with dlib's predictor).
TEMPLATE_5 = np.array(
    [[0.682, 0.42], [0.578, 0.42], [0.318, 0.42], [0.422, 0.42], [0.5, 0.62]], dtype=np.float64
)  # [5, 2]
AREA_DOMINANCE = 1.5  # the largest face is the subject when it is this many times the next one's area
SCORE_MARGIN = 0.5  # or the most confident one, when its detector score leads every other's by this


@dataclass(frozen=True)
class Detection:
    """One detected face: its box (left, top, right, bottom; pixels) and the detector's score."""

    box: tuple[int, int, int, int]
    score: float

    @property
    def area(self) -> int:
        left, top, right, bottom = self.box
        return max(0, right - left) * max(0, bottom - top)


def choose_subject(detections: list[Detection]) -> Detection | None:
    """The subject among ``detections`` (see the module), or None when there is no clear one."""
    if not detections:
        return None
    if len(detections) == 1:
        return detections[0]
    by_area = sorted(detections, key=lambda d: d.area, reverse=True)
    if by_area[0].area >= AREA_DOMINANCE * by_area[1].area:
        return by_area[0]
    by_score = sorted(detections, key=lambda d: d.score, reverse=True)
    if by_score[0].score >= by_score[1].score + SCORE_MARGIN:
        return by_score[0]
    return None


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The similarity (rotation, uniform scale, shift) taking points ``source`` ``[K, 2]`` nearest
    to ``target`` ``[K, 2]`` in least squares, as a 2×3 matrix ``A`` with ``target ≈ A @ [x, y, 1]``.

    Solved in closed form: with centred points and the complex form t = (a + ib)·s + c, the
    best a + ib is Σ conj(s)·t / Σ |s|² (K ≥ 2 distinct points)."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    if source.shape != target.shape or source.ndim != 2 or source.shape[1] != 2 or source.shape[0] < 2:
        raise ValueError(
            f"similarity_transform needs two [K, 2] point sets with K ≥ 2, got {source.shape}, {target.shape}"
        )
    s_mean, t_mean = source.mean(axis=0), target.mean(axis=0)
    s = (source - s_mean) @ np.array([1, 1j])  # [K] complex
    t = (target - t_mean) @ np.array([1, 1j])
    energy = float(np.sum(np.abs(s) ** 2))
    if energy <= 1e-12:
        raise ValueError("similarity_transform needs source points that are not all the same")
    rotation = np.sum(np.conj(s) * t) / energy  # a + ib
    a, b = rotation.real, rotation.imag
    linear = np.array([[a, -b], [b, a]])
    shift = t_mean - linear @ s_mean
    return np.concatenate([linear, shift[:, None]], axis=1)  # [2, 3]


def warp(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Resample ``image`` ``[H, W, 3]`` uint8 through the 2×3 matrix (image pixels → crop pixels)
    into a ``size`` × ``size`` crop. A crop much smaller than the face is shrunk first by a
    box filter, so that fine detail does not alias; outside the image is black."""
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    picture = Image.fromarray(image)
    shrink = int(np.floor(1.0 / scale)) if scale < 1.0 else 1
    if shrink > 1:
        picture = picture.reduce(shrink)
        # a reduced pixel k covers the original pixels [k·f, (k+1)·f): centres map by x' = (x + 0.5)/f − 0.5
        to_reduced = np.array([[1 / shrink, 0, 0.5 / shrink - 0.5], [0, 1 / shrink, 0.5 / shrink - 0.5]])
        matrix = matrix @ np.vstack([np.linalg.inv(np.vstack([to_reduced, [0, 0, 1]]))[:2], [0, 0, 1]])
    full = np.vstack([matrix, [0, 0, 1]])
    inverse = np.linalg.inv(full)[:2]  # crop pixel → image pixel, what PIL asks for
    # PIL samples pixel centres at (i + 0.5); our coordinates put centres on integers.
    centre = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]])
    inverse = (np.vstack([inverse, [0, 0, 1]]) @ centre)[:2] + np.array([[0, 0, 0.5], [0, 0, 0.5]])
    out = picture.transform((size, size), Image.Transform.AFFINE, tuple(inverse.ravel()), Image.Resampling.BICUBIC)
    return np.asarray(out.convert("RGB"))


def ffhq_quad(landmarks_68: np.ndarray) -> np.ndarray:
    """The FFHQ alignment's oriented square from 68 landmarks ``[68, 2]``: its corners ``[4, 2]``
    (top-left, bottom-left, bottom-right, top-right)."""
    eye_left, eye_right = landmarks_68[36:42].mean(axis=0), landmarks_68[42:48].mean(axis=0)
    mouth_left, mouth_right = landmarks_68[48], landmarks_68[54]
    eye_mid, mouth_mid = (eye_left + eye_right) / 2, (mouth_left + mouth_right) / 2
    eye_to_eye, eye_to_mouth = eye_right - eye_left, mouth_mid - eye_mid
    x = eye_to_eye - np.array([-eye_to_mouth[1], eye_to_mouth[0]])  # eye line, tilted by the mouth's
    x = x / np.hypot(*x) * max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.array([-x[1], x[0]])
    centre = eye_mid + eye_to_mouth * 0.1
    return np.stack([centre - x - y, centre - x + y, centre + x + y, centre + x - y])


class FaceAligner:
    """dlib detection + landmarks → aligned crops. Build one per process (the models take ~100 MB).

    ``upsample``: how many times dlib doubles the image before detecting (1 finds faces down to
    about 40 px wide; 0 is four times faster and needs about 80 px).
    """

    def __init__(self, upsample: int = 1) -> None:
        try:
            dlib, models = import_dlib()
        except ImportError as exc:
            raise DatasetError(
                f"Face alignment needs dlib and its models ({exc.name} is missing); install them with "
                f"{FACES_EXTRA_INSTALL}."
            ) from None
        self.upsample = upsample
        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._five = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
        self._sixty_eight = dlib.shape_predictor(models.pose_predictor_model_location())

    def detect(self, image: np.ndarray) -> list[Detection]:
        """The faces dlib finds in ``image`` ``[H, W, 3]`` uint8, at its default threshold."""
        rects, scores, _ = self._detector.run(np.ascontiguousarray(image), self.upsample, 0.0)
        return [
            Detection((r.left(), r.top(), r.right(), r.bottom()), float(s)) for r, s in zip(rects, scores, strict=True)
        ]

    def landmarks(self, image: np.ndarray, box: tuple[int, int, int, int], points: int = 5) -> np.ndarray:
        """dlib's 5- or 68-point landmarks of the face in ``box`` → ``[points, 2]`` (x, y)."""
        predictor = {5: self._five, 68: self._sixty_eight}[points]
        shape = predictor(np.ascontiguousarray(image), self._dlib.rectangle(*box))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)

    def crop(self, image: np.ndarray, box: tuple[int, int, int, int], size: int) -> np.ndarray:
        """The paper's crop: 5 landmarks onto :data:`TEMPLATE_5` → ``[size, size, 3]`` uint8."""
        matrix = similarity_transform(self.landmarks(image, box, 5), TEMPLATE_5 * size - 0.5)
        return warp(image, matrix, size)

    def crop_hq(self, image: np.ndarray, box: tuple[int, int, int, int], size: int) -> np.ndarray:
        """The FFHQ-style crop: the oriented square of :func:`ffhq_quad` → ``[size, size, 3]`` uint8."""
        quad = ffhq_quad(self.landmarks(image, box, 68))
        corners = np.array([[0, 0], [0, size], [size, size], [size, 0]], dtype=np.float64) - 0.5
        return warp(image, similarity_transform(quad, corners), size)
