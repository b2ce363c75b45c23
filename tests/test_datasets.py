"""Reading a prepared dataset: face normalisation, the feature cache, bad files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from voice2face.config import FeatureConfig
from voice2face.data import datasets
from voice2face.data.datasets import VoiceFeatures, read_faces
from voice2face.data.manifest import load_manifest
from voice2face.errors import AudioError, DatasetError
from voice2face.utils.images import uint8_to_float


def test_faces_are_normalised_like_the_paper(tiny_manifest):
    record = tiny_manifest.faces_in("test")[3]
    image = uint8_to_float(read_faces(tiny_manifest, [record]))[0]
    assert image.shape == (3, 64, 64) and image.dtype == torch.float32
    pixels = np.asarray(Image.open(tiny_manifest.file(record)).convert("RGB"), dtype=np.float32)
    expected = (torch.from_numpy(pixels).permute(2, 0, 1) - 127.5) / 127.5
    assert torch.equal(image, expected) and -1.0 <= image.min() and image.max() <= 1.0


def test_feature_cache_is_used_and_keyed_by_settings(tiny_manifest, tmp_path, monkeypatch):
    records = tiny_manifest.utterances_in("val")
    cached = VoiceFeatures(tiny_manifest, cache_dir=tmp_path)
    fresh = [torch.from_numpy(cached(record)) for record in records]
    files = sorted(tmp_path.rglob("*.npy"))
    assert len(files) == len(records)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although the features were cached")

    monkeypatch.setattr(datasets, "load_speech", no_decoding)
    again = VoiceFeatures(tiny_manifest, cache_dir=tmp_path)
    assert all(torch.equal(torch.from_numpy(again(r)), b) for r, b in zip(records, fresh, strict=True))
    with pytest.raises(AssertionError, match="decoded"):  # other settings, other entries
        VoiceFeatures(tiny_manifest, FeatureConfig(kind="logmel"), cache_dir=tmp_path)(records[0])


def test_bad_files_raise_errors_naming_them(tiny_corpus, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_corpus, copy)
    manifest = load_manifest(copy)
    voices = VoiceFeatures(manifest)
    utterance = manifest.utterances_in("test")[0]
    broken_wav = manifest.file(utterance)
    broken_wav.write_bytes(b"RIFF" + bytes(100))
    with pytest.raises(AudioError, match=str(broken_wav)):
        voices(utterance)
    face = manifest.faces_in("test")[0]
    broken_png = manifest.file(face)
    broken_png.write_bytes(b"not a png")
    with pytest.raises(DatasetError, match="Cannot read face image"):
        read_faces(manifest, [face])
    Image.new("RGB", (32, 32)).save(broken_png)
    with pytest.raises(DatasetError, match="is 32×32 but the dataset's face_resolution is 64"):
        read_faces(manifest, [face])
