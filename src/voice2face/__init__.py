"""voice2face: generate a face portrait from a recording of a voice.

Follows Qin, Bu, Zhong, "Audio-based High-resolution Face Portrait Method" (2025), built on
Wen et al., "Face Reconstruction from Voice using GANs" (NeurIPS 2019). Generated faces are
synthetic images, never photographs of the speaker.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

__all__ = ["VoiceToFace", "__version__", "example_voices"]


def example_voices() -> list[Path]:
    """The example recordings shipped in the package, sorted: synthvox test speakers unseen in
    training, named ``synthvox-<sex>-<age>y-<id>.wav`` (what ``make run`` draws portraits of)."""
    from importlib import resources

    return sorted(Path(str(resources.files("voice2face") / "assets" / "examples")).glob("synthvox-*.wav"))


def __getattr__(name: str):
    # Lazy: `import voice2face` stays light (no torch) until the pipeline is asked for.
    if name == "VoiceToFace":
        from voice2face.inference.pipeline import VoiceToFace

        return VoiceToFace
    raise AttributeError(f"module 'voice2face' has no attribute {name!r}")
