"""Inference config: how a recording becomes one voice embedding and faces are drawn from it."""

from __future__ import annotations

from dataclasses import dataclass

from voice2face.config.base import check


@dataclass(frozen=True)
class InferenceConfig:
    """How a recording becomes one voice embedding, and how faces are drawn from it.

    segment_seconds: speech longer than this is cut into near-equal windows of at most this
        length (the paper trains on 3–8 s crops); their embeddings are averaged.
    min_seconds: shorter speech is tiled (repeated) up to this length first.
    batch_size: encoder windows / generator images per forward pass (memory, not results).
    memory_mb: working memory one generator pass may take; fewer images go per pass when
        ``batch_size`` of them would take more (a 1024 px official generator takes about 600 MB
        per image on CPU: one per pass at the default, which keeps a 1024 px portrait near 1 GB).
    noise_mode: the generator's per-pixel noise; "const" (stored buffers) makes an image a
        function of (voice, seed) alone, "none" drops it.
    allow_non_speech: use a recording that does not sound like speech (noise, a tone, music;
        :mod:`voice2face.audio.speechlike`) with a warning, instead of refusing it.
    """

    segment_seconds: float = 8.0
    min_seconds: float = 3.0
    batch_size: int = 32
    memory_mb: float = 1024.0
    noise_mode: str = "const"
    allow_non_speech: bool = False

    def __post_init__(self) -> None:
        check(
            0 < self.min_seconds <= self.segment_seconds <= 60,
            f"need 0 < min_seconds <= segment_seconds <= 60, got {self.min_seconds}, {self.segment_seconds}.",
        )
        check(self.batch_size >= 1, f"inference batch_size must be >= 1, got {self.batch_size}.")
        check(self.memory_mb > 0, f"inference memory_mb must be positive, got {self.memory_mb}.")
        check(
            self.noise_mode in ("const", "none"),
            f"inference noise_mode must be 'const' or 'none' (deterministic), got {self.noise_mode!r}.",
        )
