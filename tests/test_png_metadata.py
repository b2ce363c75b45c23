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
