"""Generated images are marked as synthetic in their PNG metadata."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from voice2face import __version__
from voice2face.storage.png import (
    IPTC_SYNTHETIC,
    SYNTHETIC_NOTICE,
    read_png_metadata,
    save_synthetic_png,
    synthetic_metadata,
)


def test_png_carries_notice_model_seed_and_iptc_marker(tmp_path):
    image = Image.fromarray(np.full((8, 8, 3), 120, dtype=np.uint8))
    path = tmp_path / "voice_0.png"
    save_synthetic_png(image, path, synthetic_metadata(model="bundled-synthvox", seed=7, source="voice.wav"))
    text = read_png_metadata(path)
    assert text["Description"] == SYNTHETIC_NOTICE
    assert text["Software"] == f"voice2face {__version__}"
    assert text["Model"] == "bundled-synthvox" and text["Seed"] == "7" and text["Source"] == "voice.wav"
    assert IPTC_SYNTHETIC in text["XML:com.adobe.xmp"]
    with Image.open(path) as reopened:
        assert np.array(reopened).tolist() == np.array(image).tolist()


def test_refuses_to_write_an_unmarked_image(tmp_path):
    image = Image.new("RGB", (4, 4))
    with pytest.raises(ValueError, match="synthetic-image notice"):
        save_synthetic_png(image, tmp_path / "x.png", {"Software": "voice2face"})
    assert not list(tmp_path.iterdir())


def _idat(data: bytes) -> bytes:
    """The concatenated IDAT payload of a PNG file's bytes."""
    import struct

    position, payload = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            payload += data[position + 8 : position + 8 + length]
        position += 12 + length
    return payload


def test_portraits_are_compressed_at_the_chosen_zlib_level():
    """PNG_COMPRESS_LEVEL (3, not PIL's 6: faster to encode, issue 32) is what the written files use:
    their pixel stream is PIL's at that level, and its zlib header says a fast level (FLEVEL 1)."""
    import io

    from voice2face.storage.png import PNG_COMPRESS_LEVEL, synthetic_png_bytes

    rng = np.random.default_rng(0)
    image = Image.fromarray((rng.random((64, 64, 3)) * 40 + np.linspace(0, 200, 64)[:, None, None]).astype(np.uint8))
    written = _idat(synthetic_png_bytes(image, synthetic_metadata(seed=0)))
    for level in (PNG_COMPRESS_LEVEL, 6):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=level)
        assert (written == _idat(buffer.getvalue())) == (level == PNG_COMPRESS_LEVEL), level
    assert PNG_COMPRESS_LEVEL == 3 and written[1] >> 6 == 1
