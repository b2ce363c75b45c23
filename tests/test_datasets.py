"""torch Datasets over a prepared dataset: shapes, labels, crops, the feature cache, bad files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from voice2face.audio.features import crop_bounds
from voice2face.config import CropConfig, FeatureConfig
from voice2face.data import datasets
from voice2face.data.datasets import FaceDataset, PairDataset, VoiceDataset
from voice2face.data.manifest import load_manifest
from voice2face.errors import AudioError, DatasetError


def test_voice_dataset_items_and_training_crops(tiny_manifest):
    dataset = VoiceDataset(tiny_manifest, "train")
    assert len(dataset) == 36 and dataset.num_identities == 18
    features, label = dataset[0]
    assert features.dtype == torch.float32 and features.shape[0] == 39 and features.shape[1] > 100
    assert label == tiny_manifest.identity_index("train")[dataset.records[0].identity]
    low, high = crop_bounds(CropConfig(), FeatureConfig().frames_per_second)  # 240–640 MFCC frames
    torch.manual_seed(0)
    loader = DataLoader(dataset, batch_size=5, shuffle=True, collate_fn=dataset.collate_fn)
    lengths = set()
    for voices, labels in loader:
        assert voices.shape[:2] == (labels.shape[0], 39) and low <= voices.shape[2] <= high
        assert labels.dtype == torch.long and 0 <= labels.min() and labels.max() < 18
        lengths.add(voices.shape[2])
    assert len(lengths) > 1  # one length per batch, drawn anew each batch


def test_crops_repeat_under_a_seed_and_tile_short_voices(tiny_manifest):
    dataset = VoiceDataset(tiny_manifest, "val", FeatureConfig(kind="logmel"), CropConfig(3.0, 8.0))
    batch = [dataset[i] for i in range(len(dataset))]
    torch.manual_seed(1)
    first = dataset.collate_fn(batch)
    torch.manual_seed(1)
    again = dataset.collate_fn(batch)
    assert torch.equal(first[0], again[0]) and first[0].shape[1] == 64
    length = first[0].shape[2]
    assert 300 <= length <= 800  # 3–8 s of 10 ms log-mel frames
    for (features, _), cropped in zip(batch, first[0], strict=True):
        if features.shape[1] < length:  # a short voice is repeated from its start to fill the crop
            assert torch.equal(cropped[:, : features.shape[1]], features)
            assert torch.equal(cropped[:, features.shape[1] : 2 * features.shape[1]][:, :10], features[:, :10])
    whole = VoiceDataset(tiny_manifest, "val", FeatureConfig(kind="logmel"), train=False)
    assert whole.collate_fn is None and whole[0][0].shape == batch[0][0].shape


def test_face_dataset_normalises_like_the_paper(tiny_manifest):
    dataset = FaceDataset(tiny_manifest, "test")
    assert len(dataset) == 8 and dataset.num_identities == 4
    image, label = dataset[3]
    assert image.shape == (3, 64, 64) and image.dtype == torch.float32
    pixels = np.asarray(Image.open(tiny_manifest.file(dataset.records[3])).convert("RGB"), dtype=np.float32)
    expected = (torch.from_numpy(pixels).permute(2, 0, 1) - 127.5) / 127.5
    assert torch.equal(image, expected) and -1.0 <= image.min() and image.max() <= 1.0
    assert label == tiny_manifest.identity_index("test")[dataset.records[3].identity]


def test_pairs_hold_a_face_of_the_same_identity(tiny_manifest):
    dataset = PairDataset(tiny_manifest, "train", train=False)
    faces = FaceDataset(tiny_manifest, "train")
    face_label = {
        record.path: label
        for record, (_, label) in zip(faces.records, (faces[i] for i in range(len(faces))), strict=True)
    }
    for index in range(len(dataset)):
        voice, face, label = dataset[index]
        identity = dataset.voices_of.records[index].identity
        chosen = dataset.faces_of[identity][index % 2]
        assert face_label[chosen.path] == label and voice.shape[0] == 39 and face.shape == (3, 64, 64)
    torch.manual_seed(0)
    training = PairDataset(tiny_manifest, "train")
    voices, images, labels = next(iter(DataLoader(training, batch_size=4, collate_fn=training.collate_fn)))
    assert voices.shape[0] == images.shape[0] == labels.shape[0] == 4 and images.shape[1:] == (3, 64, 64)


def test_feature_cache_is_used_and_keyed_by_settings(tiny_manifest, tmp_path, monkeypatch):
    cached = VoiceDataset(tiny_manifest, "val", cache_dir=tmp_path)
    fresh = [cached[i][0] for i in range(len(cached))]
    files = sorted(tmp_path.rglob("*.npy"))
    assert len(files) == len(cached)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although the features were cached")

    monkeypatch.setattr(datasets, "load_speech", no_decoding)
    again = VoiceDataset(tiny_manifest, "val", cache_dir=tmp_path)
    assert all(torch.equal(a[0], b) for a, b in zip((again[i] for i in range(len(again))), fresh, strict=True))
    with pytest.raises(AssertionError, match="decoded"):  # other settings, other entries
        VoiceDataset(tiny_manifest, "val", FeatureConfig(kind="logmel"), cache_dir=tmp_path)[0]


def test_bad_files_raise_errors_naming_them(tiny_corpus, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_corpus, copy)
    manifest = load_manifest(copy)
    voices = VoiceDataset(manifest, "test")
    broken_wav = manifest.file(voices.records[0])
    broken_wav.write_bytes(b"RIFF" + bytes(100))
    with pytest.raises(AudioError, match=str(broken_wav)):
        voices[0]
    faces = FaceDataset(manifest, "test")
    broken_png = manifest.file(faces.records[0])
    broken_png.write_bytes(b"not a png")
    with pytest.raises(DatasetError, match="Cannot read face image"):
        faces[0]
    Image.new("RGB", (32, 32)).save(broken_png)
    with pytest.raises(DatasetError, match="is 32×32 but the dataset's face_resolution is 64"):
        faces[0]
