"""``voice2face prepare voxceleb`` on a fake VoxCeleb1 + VGGFace tree (issue 17)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fake_voxceleb import ASTRONAUT_PERSON, FACE_ONLY, PEOPLE, VOICE_ONLY, build_fake_tree
from voice2face.cli import main
from voice2face.data.align import TEMPLATE_5, Detection, FaceAligner, choose_subject, similarity_transform
from voice2face.data.datasets import PackedFeatures, VoiceFeatures
from voice2face.data.manifest import load_manifest
from voice2face.data.prepare import PrepareConfig, feature_configs, prepare_voxceleb, read_ledger
from voice2face.data.voxceleb import face_folders, normalise_name, plan, split_by_name
from voice2face.errors import DatasetError

pytest.importorskip("dlib", reason="face alignment needs dlib-bin (a main dependency)")
pytest.importorskip("skimage", reason="scikit-image (dev extra) ships the astronaut photo")


@pytest.fixture(scope="module")
def tree(tiny_manifest, tmp_path_factory):
    return build_fake_tree(tmp_path_factory.mktemp("fakevox"), tiny_manifest)


@pytest.fixture(scope="module")
def prepared(tree, tmp_path_factory):
    out = tmp_path_factory.mktemp("prepared") / "vox"
    result = prepare_voxceleb(tree.voxceleb1, tree.faces, tree.meta, out, PrepareConfig(hq_size=128), progress=False)
    return out, result


def _records(manifest):
    return (
        [(i.id, i.split, i.attributes) for i in manifest.identities],
        [(u.identity, u.path, u.seconds) for u in manifest.utterances],
        [(f.identity, f.path) for f in manifest.faces],
    )


# ---------------------------------------------------------------------------------------- rules


def test_names_match_across_accents_case_and_separators():
    assert normalise_name("Amélie_Poulain") == normalise_name("amelie  poulain") == "amelie poulain"
    assert normalise_name("Chloë_Sevigny") == normalise_name("CHLOE_SEVIGNY")
    assert normalise_name("Jean-Paul_Belmondo") == "jean-paul belmondo"  # hyphens are part of a name
    assert normalise_name("A.J._Buckley") != normalise_name("AJ_Buckley")


def test_split_by_first_letter_gives_the_papers_counts():
    rng = np.random.default_rng(0)
    letters = "ABCDE" * 60 + "A" + "FGHIJKLMNOPQRSTUVWXYZ" * 44
    names = {f"id{k:05d}": normalise_name(f"{ch}{rng.integers(10**9)}_x") for k, ch in enumerate(letters)}
    split = split_by_name(names)
    counts = {s: sum(v == s for v in split.values()) for s in ("train", "val", "test")}
    assert counts == {"train": 924, "val": 112, "test": 189}
    for key, name in names.items():
        assert (split[key] == "train") == (name[0].upper() not in "ABCDE")
    assert split_by_name(dict(reversed(list(names.items())))) == split  # order of the input does not matter


def test_similarity_transform_recovers_a_known_one():
    angle, scale, shift = 0.3, 1.7, np.array([5.0, -3.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    source = np.random.default_rng(1).normal(size=(5, 2)) * 20
    matrix = similarity_transform(source, source @ rotation.T + shift)
    np.testing.assert_allclose(matrix, np.concatenate([rotation, shift[:, None]], axis=1), atol=1e-9)
    with pytest.raises(ValueError):
        similarity_transform(np.zeros((5, 2)), source)


def test_the_subject_is_a_face_that_clearly_dominates():
    big, small = Detection((0, 0, 100, 100), 0.2), Detection((200, 0, 260, 60), 1.5)
    assert choose_subject([big, small]) is big  # area 10000 ≥ 1.5 × 3600
    twin = Detection((300, 0, 395, 95), 0.3)
    assert choose_subject([big, twin]) is None  # alike in size and in score: no clear subject
    sure = Detection((300, 0, 395, 95), 1.2)
    assert choose_subject([big, sure]) is sure  # alike in size, but its score leads by ≥ 0.5
    assert choose_subject([]) is None


def test_vggface2_layout_is_read_through_its_metadata(tmp_path):
    for split, cls in (("train", "n000001"), ("test", "n000002"), ("train", "n000003")):
        (tmp_path / split / cls).mkdir(parents=True)
    meta = tmp_path / "identity_meta.csv"
    meta.write_text('Class_ID, Name, Sample_Num, Flag, Gender\nn000001, "Amélie_Poulain", 3, 1, f\n'
                    'n000002, "Dev_Patel", 2, 0, m\n', encoding="utf-8")  # fmt: skip
    folders = face_folders(tmp_path, meta)
    assert sorted(folders) == ["amelie poulain", "dev patel"]  # n000003 is not in the metadata
    assert folders["dev patel"] == [tmp_path / "test" / "n000002"]


# ---------------------------------------------------------------------------------------- the job


def test_the_manifest_holds_the_intersection_split_by_first_letter(prepared, tree):
    out, result = prepared
    manifest = load_manifest(out)
    assert manifest.source == "voxceleb-vggface" and manifest.face_resolution == 64
    by_id = {i.id: i for i in manifest.identities}
    assert set(by_id) == set(tree.ids.values())  # not the voice-only or face-only people
    for name, _, sex in PEOPLE:
        identity = by_id[tree.ids[name]]
        assert identity.attributes["name"] == name
        assert identity.attributes["sex"] == {"m": "male", "f": "female"}[sex]
        assert (identity.split == "train") == (normalise_name(name)[0] not in "abcde")
    assert result.counts["splits"] == {"train": 5, "val": 2, "test": 3}  # round(5 · 112/301) = 2 validation
    report = json.loads(result.report.read_text())
    assert report["voices_only"] == [VOICE_ONLY[0]] and report["faces_only"] == [FACE_ONLY]


def test_unusable_files_are_skipped_and_listed_with_a_reason(prepared, tree):
    out, result = prepared
    report = json.loads(result.report.read_text())
    skipped = {Path(s["file"]): s["reason"] for s in report["skipped"]}
    assert set(skipped) == set(tree.corrupt)
    assert all(reason for reason in skipped.values())
    assert "no face" in skipped[tree.corrupt[-1]]
    manifest = load_manifest(out)
    sources = {(f.info or {}).get("source") for f in (*manifest.faces, *manifest.utterances)}
    assert not sources & {str(p) for p in tree.corrupt}


def test_eyes_of_aligned_crops_land_on_the_template(prepared, tree):
    """dlib's own landmarks, found again on each aligned crop of the real photo, sit on the template."""
    out, _ = prepared
    aligner = FaceAligner(upsample=0)
    person = tree.ids[ASTRONAUT_PERSON]
    crops = sorted((out / "faces" / person).glob("astronaut*.png"))
    assert len(crops) == 3  # uncropped (despite dlib's second, false face), cropped, turned
    for crop in crops:
        pixels = np.asarray(Image.open(crop).convert("RGB"))
        assert pixels.shape == (64, 64, 3)
        big = np.asarray(Image.fromarray(pixels).resize((256, 256), Image.Resampling.BICUBIC))
        landmarks = (aligner.landmarks(big, (0, 0, 255, 255), 5) + 0.5) / 256  # in units of the side
        eyes = slice(0, 4)
        assert np.abs(landmarks[eyes] - TEMPLATE_5[eyes]).max() < 1.5 / 64, (crop.name, landmarks)
    hq = sorted((out / "faces-hq" / person).glob("astronaut*.png"))
    assert len(hq) == 3 and Image.open(hq[0]).size == (128, 128)


def test_stored_features_are_the_ones_the_recordings_give(prepared):
    out, _ = prepared
    manifest = load_manifest(out)
    for config in feature_configs(("logmel", "mfcc")):
        reader = VoiceFeatures(manifest, config)
        for record in manifest.utterances[:3]:
            stored = reader.packed.get(manifest, record)
            assert stored is not None
            reader.packed = PackedFeatures(manifest.root, "absent")  # the same reader, computing afresh
            np.testing.assert_array_equal(stored, reader(record))
            reader = VoiceFeatures(manifest, config)


def test_a_rerun_redoes_nothing(prepared, tree):
    out, first = prepared
    again = prepare_voxceleb(tree.voxceleb1, tree.faces, tree.meta, out, PrepareConfig(hq_size=128), progress=False)
    done = json.loads(again.report.read_text())["this_run"]
    assert done["utterances_processed"] == done["faces_processed"] == 0
    assert done["utterances_reused"] > 0 and done["faces_reused"] > 0
    assert again.counts == first.counts


def test_two_workers_give_the_same_dataset(prepared, tree, tmp_path):
    out, _ = prepared
    parallel = prepare_voxceleb(tree.voxceleb1, tree.faces, tree.meta, tmp_path / "two",
                                PrepareConfig(hq_size=128, workers=2), progress=False)  # fmt: skip
    assert _records(load_manifest(parallel.manifest.parent)) == _records(load_manifest(out))
    for face in load_manifest(out).faces:
        assert (out / face.path).read_bytes() == (tmp_path / "two" / face.path).read_bytes()


def test_kill_9_then_rerun_finishes_without_redoing_or_losing_work(prepared, tree, tmp_path):
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "voice2face", "prepare", "voxceleb", "--voxceleb1", str(tree.voxceleb1),
               "--faces", str(tree.faces), "--meta", str(tree.meta), "-o", str(out),
               "--hq-size", "128", "-q"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    ledgers = out / ".prepare" / "ledger"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if sum(len(read_ledger(p)) for p in ledgers.glob("*.jsonl")) >= 4:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the preparation ended before it could be killed: " + proc.stderr.read().decode()[-500:]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = sum(len(read_ledger(p)) for p in ledgers.glob("*.jsonl"))
    assert not (out / "manifest.json").exists()
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    this_run = json.loads((out / "prepare_report.json").read_text())["this_run"]
    reused = this_run["utterances_reused"] + this_run["faces_reused"]
    processed = this_run["utterances_processed"] + this_run["faces_processed"]
    assert reused >= done_before >= 4  # what was done before the kill was kept, and not redone
    clean = load_manifest(prepared[0])
    assert processed + reused == len(clean.utterances) + len(clean.faces) + len(tree.corrupt)
    assert _records(load_manifest(out)) == _records(clean)


# ---------------------------------------------------------------------------------------- the command


def test_command_errors_are_one_sentence(tree, tmp_path, capsys):
    base = ["prepare", "voxceleb", "--voxceleb1", str(tree.voxceleb1), "--faces", str(tree.faces)]
    assert main([*base, "--meta", str(tmp_path / "none.csv"), "-o", str(tmp_path / "a")]) == 1
    assert "vox1_meta.csv" in capsys.readouterr().err
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    assert main([*base, "--meta", str(tree.meta), "-o", str(used)]) == 1
    assert "not an earlier preparation" in capsys.readouterr().err and (used / "keep.txt").read_text() == "mine"
    assert main([*base, "--meta", str(tree.meta), "-o", str(tmp_path / "b"), "--features", "wav2vec"]) == 2
    assert "--features" in capsys.readouterr().err


def test_resuming_with_other_settings_is_refused(prepared, tree, capsys):
    out, _ = prepared
    args = ["prepare", "voxceleb", "--voxceleb1", str(tree.voxceleb1), "--faces", str(tree.faces),
            "--meta", str(tree.meta), "-o", str(out), "--face-size", "32", "-q"]  # fmt: skip
    assert main(args) == 1
    assert "other settings" in capsys.readouterr().err
    assert load_manifest(out).face_resolution == 64  # untouched


def test_plan_names_who_is_left_out(tree):
    work = plan(tree.voxceleb1, tree.faces, tree.meta)
    assert [p.name for p in work.people] == [name for name, _, _ in PEOPLE]
    assert work.voices_only == [VOICE_ONLY[0]] and work.faces_only == [FACE_ONLY]


def test_sf2f_split_file_replaces_the_first_letter_rule(tree, tmp_path):
    names = [name for name, _, _ in PEOPLE]
    split = {"vox1": {"train": names[:6], "val": [names[6]], "test": names[7:9]}, "vox2": {}}  # Zoë not listed
    path = tmp_path / "split.json"
    path.write_text(json.dumps(split), encoding="utf-8")
    work = plan(tree.voxceleb1, tree.faces, tree.meta, split_json=path)
    assert {p.name: p.split for p in work.people} == {
        **{n: "train" for n in names[:6]}, names[6]: "val", names[7]: "test", names[8]: "test"
    }  # fmt: skip
    assert work.unsplit == [names[9]]
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(DatasetError, match="SF2F split file"):
        plan(tree.voxceleb1, tree.faces, tree.meta, split_json=path)


def test_a_torn_ledger_line_loses_nothing_after_it(tmp_path):
    from voice2face.data.prepare import _Ledger, _ledger_path

    path = _ledger_path(tmp_path, "faces", "id1")
    path.parent.mkdir(parents=True)
    path.write_text('{"source": "a", "status": "kept"}\n{"source": "b", "sta', encoding="utf-8")  # killed mid-line
    ledger = _Ledger(tmp_path, "faces", "id1")
    assert set(ledger.done) == {"a"}
    ledger.record({"source": "b", "status": "kept"})
    ledger.record({"source": "c", "status": "kept"})
    ledger.close()
    assert set(read_ledger(path)) == {"a", "b", "c"}


def test_output_names_of_look_alike_images_differ():
    from voice2face.data.prepare import _face_name

    root = Path("/faces/Someone")
    names = {_face_name(root / rel, root) for rel in ("x.y.jpg", "x_y.jpg", "s/a.jpg", "s_a.jpg")}
    assert len(names) == 4


def test_a_recording_added_later_is_the_only_one_done_on_a_rerun(tiny_manifest, tmp_path):
    tree = build_fake_tree(tmp_path / "tree", tiny_manifest)
    options = PrepareConfig(features=("mfcc",))
    first = prepare_voxceleb(tree.voxceleb1, tree.faces, tree.meta, tmp_path / "out", options, progress=False)
    person = tree.voxceleb1 / "wav" / tree.ids["Dev_Patel"]
    added = person / "video7" / "00001.wav"
    added.parent.mkdir()
    added.write_bytes((person / "video0" / "00001.wav").read_bytes())
    again = prepare_voxceleb(tree.voxceleb1, tree.faces, tree.meta, tmp_path / "out", options, progress=False)
    this_run = json.loads(again.report.read_text())["this_run"]
    assert this_run["utterances_processed"] == 1 and this_run["faces_processed"] == 0
    assert again.counts["utterances"] == first.counts["utterances"] + 1
    manifest = load_manifest(tmp_path / "out")
    record = next(u for u in manifest.utterances if u.path.endswith("video7/00001.wav"))
    assert VoiceFeatures(manifest, feature_configs(("mfcc",))[0]).packed.get(manifest, record) is not None
