"""The dataset contract: a manifest round-trips exactly, and every broken one is one sentence
naming the file."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from voice2face.data.manifest import Manifest, load_manifest, manifest_json, save_manifest
from voice2face.data.splits import SPLITS, assign_splits, split_counts
from voice2face.errors import DatasetError


def test_round_trip_is_byte_identical(tiny_corpus, tiny_manifest, tmp_path):
    text = (tiny_corpus / "manifest.json").read_text(encoding="utf-8")
    assert manifest_json(tiny_manifest) == text
    save_manifest(tiny_manifest, tmp_path)
    assert (tmp_path / "manifest.json").read_text(encoding="utf-8") == text
    reloaded = load_manifest(tmp_path / "manifest.json", check_files=False)
    assert reloaded.identities == tiny_manifest.identities and reloaded.root == tmp_path


def test_identity_index_is_sorted_and_per_split(tiny_manifest: Manifest):
    for split in SPLITS:
        index = tiny_manifest.identity_index(split)
        assert list(index) == sorted(index) and list(index.values()) == list(range(len(index)))
    assert len(tiny_manifest.identity_index()) == 24
    with pytest.raises(ValueError):
        tiny_manifest.identity_ids("training")


def _set(key: str, value) -> Callable[[dict], None]:
    return lambda data: data.__setitem__(key, value)


def _empty_val(data: dict) -> None:
    for identity in data["identities"]:
        if identity["split"] == "val":
            identity["split"] = "train"


def _duplicate(data: dict) -> None:
    data["identities"].append(copy.deepcopy(data["identities"][0]))


def _no_faces_for_first(data: dict) -> None:
    first = data["identities"][0]["id"]
    data["faces"] = [f for f in data["faces"] if f["identity"] != first]


BROKEN: dict[str, tuple[Callable[[dict], None], str]] = {
    "another format": (_set("format", "imagenet"), "is not a voice2face dataset manifest"),
    "a newer version": (_set("version", 2), "version 2 but this voice2face reads version 1"),
    "no identities field": (lambda d: d.pop("identities"), "missing the 'identities' field"),
    "sample rate as text": (_set("sample_rate", "16k"), "'sample_rate' must be int"),
    "duplicate identity": (_duplicate, "twice"),
    "unknown split": (lambda d: d["identities"][0].__setitem__("split", "dev"), "split 'dev'"),
    "an empty split": (_empty_val, "no identities in the 'val' split"),
    "unknown identity": (lambda d: d["utterances"][0].__setitem__("identity", "nobody"), "unknown identity 'nobody'"),
    "absolute path": (lambda d: d["faces"][0].__setitem__("path", "/etc/passwd"), "not relative"),
    "escaping path": (lambda d: d["faces"][0].__setitem__("path", "../x.png"), "not relative"),
    "identity without faces": (_no_faces_for_first, "without any face"),
    "record missing a field": (lambda d: d["utterances"][0].pop("seconds"), "malformed record"),
    "zero-length utterance": (lambda d: d["utterances"][0].__setitem__("seconds", 0), "has length 0"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_manifests_raise_one_sentence_naming_the_file(tiny_corpus, tmp_path, case):
    change, phrase = BROKEN[case]
    data = json.loads((tiny_corpus / "manifest.json").read_text())
    change(data)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DatasetError) as info:
        load_manifest(tmp_path, check_files=False)
    message = str(info.value)
    assert phrase in message and str(path) in message
    assert "\n" not in message and message.endswith(".")


def test_missing_files_not_json_and_no_dataset(tiny_corpus, tmp_path):
    (tmp_path / "manifest.json").write_bytes((tiny_corpus / "manifest.json").read_bytes())
    with pytest.raises(DatasetError, match=r"lists 96 file\(s\) that do not exist, e\.g\. voices/sv00000/000\.wav"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DatasetError, match="is not valid JSON"):
        load_manifest(tmp_path)
    with pytest.raises(DatasetError, match=r"No dataset at .*synth-corpus"):
        load_manifest(tmp_path / "nowhere")


def test_split_counts_follow_the_paper():
    assert split_counts(1225) == (924, 112, 189)
    assert split_counts(200) == (151, 18, 31)
    assert split_counts(3) == (1, 1, 1)
    assert sum(split_counts(37)) == 37


def test_assign_splits_is_exact_and_stratified():
    import numpy as np

    ids = [f"p{i:03d}" for i in range(300)]
    strata = ["a" if i % 3 else "b" for i in range(300)]
    split_of = assign_splits(ids, np.random.default_rng(7), strata=strata)
    counts = {s: sum(1 for v in split_of.values() if v == s) for s in SPLITS}
    assert tuple(counts.values()) == split_counts(300)
    for stratum in "ab":
        members = [i for i, s in zip(ids, strata, strict=True) if s == stratum]
        share = sum(split_of[i] == "train" for i in members) / len(members)
        assert abs(share - 924 / 1225) < 0.02
    assert assign_splits(ids, np.random.default_rng(7), strata=strata) == split_of
    with pytest.raises(ValueError):
        assign_splits(["x", "x", "y"], np.random.default_rng(0))


def test_save_refuses_an_inconsistent_manifest(tiny_manifest, tmp_path: Path):
    from dataclasses import replace

    broken = replace(tiny_manifest, faces=tiny_manifest.faces[2:])
    with pytest.raises(DatasetError, match="without any face"):
        save_manifest(broken, tmp_path)
    assert not (tmp_path / "manifest.json").exists()
