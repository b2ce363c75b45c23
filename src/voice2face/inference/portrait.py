"""Portraits on disk: every input recording → PNG files that say they are synthetic.

For an input ``voice.wav`` this writes ``voice_0.png … voice_{N-1}.png`` (or one ``voice.png``
grid) into the output folder. Each PNG carries the software and version, the model name, the
seed and sample index, the truncation, the source file's name and the synthetic-image notice
(text chunks + IPTC XMP marker, see :mod:`voice2face.storage.png`). Nothing time-dependent is
written, so the same inputs and seed give byte-identical files.

Folders are expanded to the audio files inside them (``recursive``: in their sub-folders too);
a file named twice is processed once; two inputs whose names would give the same PNG names get
names told apart by their folders (``a/voice.wav`` → ``a-voice_0.png``, ``b/voice.wav`` →
``b-voice_0.png``) or, in one folder, by their extension (``voice-wav_0.png``, ``voice-flac_0.png``).

A recording that cannot be used is reported and skipped; the others are still processed.
Each file is written atomically, and a recording whose images cannot all be written leaves
none of them behind. The output folder is created (and tried) before any work, and removed
again if nothing was written into it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from voice2face.audio.io import AUDIO_EXTENSIONS
from voice2face.errors import AudioError, ConfigError
from voice2face.inference.pipeline import VoiceToFace
from voice2face.storage.png import save_synthetic_pngs, synthetic_metadata
from voice2face.utils.files import prepare_output_dir, remove_empty_dirs
from voice2face.utils.images import grid as image_grid
from voice2face.utils.images import to_pil

#: The CLI's default output folder, relative to the current folder.
DEFAULT_OUTPUT_DIR = "portraits"


@dataclass
class PortraitResult:
    """What :func:`write_portraits` did: the files written and, per failed input, its one-line error."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    recordings: int = 0  # inputs that gave images


def collect_audio_files(inputs: Iterable[str | Path], *, recursive: bool = False) -> list[Path]:
    """Expand the inputs: a folder means the audio files directly inside it, or with ``recursive``
    anywhere below it (hidden files and folders left out), sorted by path.

    The same file given twice (directly, through a folder, or by another path to it) is kept
    once, at its first place. Anything else is kept as given, so a missing or unreadable file is
    reported by the decoder in the same words as everywhere else; a folder without audio files
    is kept too, and :func:`write_portraits` reports it.
    """
    files: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        path = Path(item)
        found = []
        if path.is_dir():
            candidates = path.rglob("*") if recursive else path.iterdir()
            found = sorted(p for p in candidates if _is_audio(p) and not _is_hidden(p.relative_to(path)))
        for file in found or [path]:
            key = _same_file_key(file)
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files


def _is_audio(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in AUDIO_EXTENSIONS


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _same_file_key(path: Path) -> Path:
    try:
        return path.resolve()  # links and "a/../b" spellings of one file meet here
    except (OSError, RuntimeError):
        return path.absolute()


def _embed(pipe: VoiceToFace, path: Path):
    if path.is_dir():
        raise AudioError(
            f"{path} is a directory with no audio files (.wav, .flac, .ogg, .mp3, ...) directly inside it; "
            "give audio files, a folder that contains some, or --recursive to look in its sub-folders."
        )
    return pipe.embed(path)  # [D]


def _rescaled(picture: Image.Image, target: int, size: int) -> Image.Image:
    """``picture`` (a portrait, or a grid of ``size`` px portraits) scaled by ``target / size`` (Lanczos,
    down or up: resampling adds pixels, not detail)."""
    width, height = (max(1, round(side * target / size)) for side in picture.size)
    return picture.resize((width, height), Image.Resampling.LANCZOS)


def output_names(files: Sequence[Path], num_samples: int, as_grid: bool) -> dict[Path, list[str]]:
    """The PNG names each input will get, never the same for two inputs (see the module docstring)."""
    stems = unique_stems(files)
    return {
        path: [f"{stem}.png"] if as_grid else [f"{stem}_{k}.png" for k in range(num_samples)]
        for path, stem in stems.items()
    }


def unique_stems(files: Sequence[Path]) -> dict[Path, str]:
    """Each file's output stem: its own stem where no other file has it (ignoring case, for
    case-insensitive file systems); else prefixed with as many of its folders as tell the files
    apart, or suffixed with its extension; else numbered."""
    stems = {path: path.stem or path.name for path in files}
    groups: dict[str, list[Path]] = {}
    for path in files:
        groups.setdefault(stems[path].casefold(), []).append(path)
    for group in groups.values():
        if len(group) > 1:
            stems.update(_told_apart(group, stems))
    # A new name may equal another file's own stem ("a-voice.wav"): number the later ones.
    taken: set[str] = set()
    for path in files:
        stem, number = stems[path], 2
        while stems[path].casefold() in taken:
            stems[path] = f"{stem}-{number}"
            number += 1
        taken.add(stems[path].casefold())
    return stems


def _told_apart(group: list[Path], stems: dict[Path, str]) -> dict[Path, str]:
    """Names for files that share a stem: split them by their parent folder, then by the folder
    above it, and so on, until each is alone; files in one folder are told apart by extension."""
    folders = {path: tuple(part for part in path.absolute().parent.parts if part.strip("/\\")) for path in group}
    names: dict[Path, str] = {}

    def name(path: Path, depth: int) -> str:
        return "-".join([*folders[path][len(folders[path]) - depth :], stems[path]] if depth else [stems[path]])

    def split(members: list[Path], depth: int) -> None:
        if len(members) == 1:
            names[members[0]] = name(members[0], depth)
        elif len({folders[path] for path in members}) == 1:
            for path in members:
                names[path] = f"{name(path, depth)}-{path.suffix.lstrip('.').lower()}"
        else:
            buckets: dict[tuple[str, ...], list[Path]] = {}
            for path in members:
                buckets.setdefault(folders[path][max(0, len(folders[path]) - depth - 1) :], []).append(path)
            for bucket in buckets.values():
                split(bucket, depth + 1)

    split(group, 0)
    return names


def write_portraits(
    pipe: VoiceToFace,
    inputs: Iterable[str | Path],
    out_dir: str | Path = DEFAULT_OUTPUT_DIR,
    *,
    num_samples: int = 4,
    seed: int = 0,
    truncation_psi: float = 1.0,
    as_grid: bool = False,
    recursive: bool = False,
    thumbnail: int | None = None,
    resize: int | None = None,
    progress: bool = True,
    on_error: Callable[[Path, str], None] | None = None,
) -> PortraitResult:
    """Generate ``num_samples`` faces per input recording and write them as PNGs into ``out_dir``.

    inputs: audio files and/or folders of them (``recursive``: and their sub-folders).
    ``on_error(path, message)`` is called for each input that fails (AudioError: unreadable, no
    speech, not speech, too long...); the rest go on. ``progress``: a bar on a terminal, and
    where stderr is not one (a log, a pipe) one line per finished recording. ``out_dir`` is
    created first (OutputError if it cannot be) and removed again if nothing was written.
    Portraits come at the model's native resolution (``pipe.config.generator.img_resolution``);
    ``resize`` writes them resampled to that many px instead (their metadata names the native size),
    ``thumbnail`` adds a smaller copy of each beside it.
    """
    from tqdm import tqdm

    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or not 1 <= num_samples <= 1024:
        raise ConfigError(f"num_samples must be a whole number 1–1024, got {num_samples!r}.")
    pipe.require_generator()  # a voice encoder alone: say so before any recording is read
    files = collect_audio_files(inputs, recursive=recursive)
    names = output_names(files, num_samples, as_grid)
    out = Path(out_dir)
    size = pipe.config.generator.img_resolution
    if thumbnail is not None and not (isinstance(thumbnail, int) and 8 <= thumbnail < size):
        raise ConfigError(f"a thumbnail must be 8 px or more and smaller than the model's {size} px portraits, "
                          f"got {thumbnail!r}; leave it out to write the portraits alone.")  # fmt: skip
    if resize is not None and not (isinstance(resize, int) and not isinstance(resize, bool) and 8 <= resize <= 4096):
        raise ConfigError(f"a portrait size must be a whole number of px from 8 to 4096, got {resize!r}; leave it "
                          f"out for the model's own {size} px.")  # fmt: skip
    created = prepare_output_dir(out)
    terminal = sys.stderr.isatty()
    result = PortraitResult()
    bar = tqdm(files, desc="portraits", unit="voice", disable=not (progress and terminal and len(files) > 1))
    try:
        for index, path in enumerate(bar, start=1):
            try:
                embedding = _embed(pipe, path)  # [D]
            except AudioError as exc:
                result.failed.append((path, str(exc)))
                if on_error is not None:
                    on_error(path, str(exc))
                continue
            images = pipe.generate_tensors(embedding[None].repeat(num_samples, axis=0), seed, truncation_psi)
            common = dict(model=pipe.name, seed=seed, truncation_psi=truncation_psi, source=path.name,
                          resolution=f"{size} px")  # fmt: skip
            if as_grid:
                columns = min(num_samples, 4)
                pictures = [(image_grid(images, columns), synthetic_metadata(**common, samples=num_samples))]
            else:
                pictures = [
                    (picture, synthetic_metadata(**common, sample=k)) for k, picture in enumerate(to_pil(images))
                ]
            targets = [out / name for name in names[path]]
            native = pictures
            if resize is not None and resize != size:  # NAME_0.png itself, resampled from the model's size
                resampled = {"Resampled": f"{resize} px from the model's {size}"}
                pictures = [(_rescaled(picture, resize, size), {**info, **resampled}) for picture, info in native]
            if thumbnail is not None:  # a downscaled copy beside each, NAME_0.png → NAME_0.256px.png
                pictures = pictures + [
                    (_rescaled(picture, thumbnail, size), {**info, "Thumbnail": f"{thumbnail} px of {size}"})
                    for picture, info in native
                ]
                targets += [target.with_suffix(f".{thumbnail}px.png") for target in targets]
            written = save_synthetic_pngs(pictures, targets)
            result.written.extend(written)
            result.recordings += 1
            if progress and not terminal:
                count = len(written)
                print(f"[{index}/{len(files)}] {path}: {count} image{'' if count == 1 else 's'}", file=sys.stderr)
    finally:
        remove_empty_dirs(created)
    return result
