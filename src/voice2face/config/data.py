"""Dataset configs: the paper's identity split and what the synthetic corpus (synthvox) generates."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from voice2face.config.audio import FEATURE_KINDS, SAMPLE_RATE
from voice2face.config.base import check

#: The identity-disjoint splits every prepared dataset has, in order.
SPLITS = ("train", "val", "test")
#: The paper's identity split (Qin et al. 2025, Table 1): train / val / test subjects of 1 225.
PAPER_SPLIT_SUBJECTS = (924, 112, 189)
#: The paper's number of subjects; ``voice2face synth-corpus --identities 1225`` reproduces it.
PAPER_IDENTITIES = sum(PAPER_SPLIT_SUBJECTS)


@dataclass(frozen=True)
class SynthVoxConfig:
    """What the synthetic paired voice–face corpus (``voice2face.data.synthvox``) generates.

    Everything that changes the written bytes is here, so this config (saved in the manifest as
    ``generator_config``) and the voice2face version reproduce a corpus exactly.

    identities: number of people; the paper has 1 225 (:data:`PAPER_IDENTITIES`), the default of
        200 generates in well under a minute on 2 cores.
    utterances_per_identity / faces_per_identity: recordings and images per person.
    resolution: side of the square RGB face images in pixels (the paper's 64; up to 256).
    seed: every identity, utterance and image draws from its own generator derived from
        (seed, identity index, item index), so results do not depend on worker count or order.
    sample_rate: Hz of the written 16-bit PCM WAV files.
    min_utterance_seconds / max_utterance_seconds: whole-file lengths, silences included, drawn
        log-uniformly between the two.
    silence_seconds: (min, max) of the leading and of the trailing near-silence (background noise
        only), each at most a fifth of the file so that short files keep most of their speech.
    snr_db: (min, max) speech-to-background-noise ratio of a recording, in dB.
    split_weights: relative sizes of the identity-disjoint (train, val, test) splits; the paper's
        924/112/189 subjects by default.
    preview_identities: faces shown in ``preview.png``, the labelled contact sheet.
    example_voices: how many example WAVs (copies of utterances spanning sex and age) go to
        ``examples/`` beside the manifest.
    """

    identities: int = 200
    utterances_per_identity: int = 8
    faces_per_identity: int = 6
    resolution: int = 64
    seed: int = 0
    sample_rate: int = SAMPLE_RATE
    min_utterance_seconds: float = 2.0
    max_utterance_seconds: float = 10.0
    silence_seconds: tuple[float, float] = (0.3, 1.0)
    snr_db: tuple[float, float] = (15.0, 40.0)
    split_weights: tuple[int, int, int] = PAPER_SPLIT_SUBJECTS
    preview_identities: int = 32
    example_voices: int = 4

    def __post_init__(self) -> None:
        check(3 <= self.identities <= 100_000, f"identities must be 3–100000, got {self.identities}.")
        check(
            1 <= self.utterances_per_identity <= 1000,
            f"utterances_per_identity must be 1–1000, got {self.utterances_per_identity}.",
        )
        check(
            1 <= self.faces_per_identity <= 1000, f"faces_per_identity must be 1–1000, got {self.faces_per_identity}."
        )
        check(32 <= self.resolution <= 256, f"resolution must be 32–256 pixels, got {self.resolution}.")
        check(0 <= self.seed < 2**63, f"seed must be a non-negative integer below 2**63, got {self.seed}.")
        check(16000 <= self.sample_rate <= 48000, f"sample_rate must be 16000–48000 Hz, got {self.sample_rate}.")
        check(
            1.0 <= self.min_utterance_seconds <= self.max_utterance_seconds <= 60.0,
            "need 1 <= min_utterance_seconds <= max_utterance_seconds <= 60, got "
            f"{self.min_utterance_seconds}, {self.max_utterance_seconds}.",
        )
        check(
            len(self.silence_seconds) == 2 and 0.1 <= self.silence_seconds[0] <= self.silence_seconds[1] <= 5.0,
            f"silence_seconds must be (min, max) with 0.1 <= min <= max <= 5, got {self.silence_seconds}.",
        )
        check(
            len(self.snr_db) == 2 and 5.0 <= self.snr_db[0] <= self.snr_db[1] <= 80.0,
            f"snr_db must be (min, max) with 5 <= min <= max <= 80 dB, got {self.snr_db}.",
        )
        check(
            len(self.split_weights) == 3 and all(w > 0 for w in self.split_weights),
            f"split_weights must be three positive (train, val, test) weights, got {self.split_weights}.",
        )
        check(0 <= self.preview_identities <= 256, f"preview_identities must be 0–256, got {self.preview_identities}.")
        check(0 <= self.example_voices <= 64, f"example_voices must be 0–64, got {self.example_voices}.")

    @classmethod
    def paper(cls, **overrides: Any) -> SynthVoxConfig:
        """The paper's scale: 1 225 identities split 924/112/189."""
        return cls(**{"identities": PAPER_IDENTITIES, **overrides})


#: The unpaired face corpus's default seed (``voice2face synth-faces``): people are drawn per
#: (seed, index), so it differs from the paired corpus's default (``SynthVoxConfig.seed``, 0) and
#: no paired test person is among the faces a generator is pretrained on.
FACE_CORPUS_SEED = 1000


#: How ``prepare`` brings recordings into a dataset folder: links to them, or copies.
AUDIO_FILE_MODES = ("symlink", "copy")


@dataclass(frozen=True)
class PrepareConfig:
    """How ``voice2face prepare voxceleb`` prepares (voice2face.data.prepare): the aligned crops' size
    (the paper's 64 px) and, optionally, FFHQ-style crops' (``hq_size``), the feature kinds stored
    (``mfcc``: the paper's, ``logmel``: Wen et al.'s), whether recordings are linked or copied in,
    how often dlib's detector doubles an image (1: faces down to ~40 px), and worker processes."""

    face_size: int = 64
    hq_size: int | None = None
    features: tuple[str, ...] = ("logmel", "mfcc")
    audio_files: str = "symlink"
    upsample: int = 1
    workers: int = 1

    def __post_init__(self) -> None:
        check(8 <= self.face_size <= 1024, f"--face-size must be 8–1024 px, got {self.face_size}.")
        check(self.hq_size is None or 64 <= self.hq_size <= 1024, f"--hq-size must be 64–1024 px, got {self.hq_size}.")
        bad = [k for k in self.features if k not in FEATURE_KINDS]
        check(not bad, f"--features takes {', '.join(FEATURE_KINDS)} (or none), not {', '.join(bad)}.")
        check(self.audio_files in AUDIO_FILE_MODES, f"--audio-files must be one of {', '.join(AUDIO_FILE_MODES)}.")
        check(0 <= self.upsample <= 3, f"--upsample must be 0–3, got {self.upsample}.")
        check(self.workers >= 1, f"--workers must be at least 1, got {self.workers}.")

    def settings(self) -> dict[str, Any]:
        """What decides the outputs (the worker count does not)."""
        out = asdict(self)
        out.pop("workers")
        out["features"] = list(self.features)
        return out
