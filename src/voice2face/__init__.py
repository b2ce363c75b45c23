"""voice2face: generate a face portrait from a recording of a voice.

Follows Qin, Bu, Zhong, "Audio-based High-resolution Face Portrait Method" (2025), built on
Wen et al., "Face Reconstruction from Voice using GANs" (NeurIPS 2019). Generated faces are
synthetic images, never photographs of the speaker.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
