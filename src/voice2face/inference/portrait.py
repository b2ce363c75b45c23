"""Portraits on disk: every input recording → PNG files that say they are synthetic.

For an input ``voice.wav`` this writes ``voice_0.png … voice_{N-1}.png`` (or one ``voice.png``
grid) into the output folder. Each PNG carries the software and version, the model name, the
seed and sample index, the truncation, the source file's name and the synthetic-image notice
(text chunks + IPTC XMP marker, see :mod:`voice2face.inference.png`). Nothing time-dependent is
written, so the same inputs and seed give byte-identical files.

A recording that cannot be used is reported and skipped; the others are still processed.
Each file is written atomically, and a recording whose images cannot all be written leaves
none of them behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from voice2face.audio.io import AUDIO_EXTENSIONS
from voice2face.errors import AudioError, ConfigError
from voice2face.inference.pipeline import VoiceToFace
from voice2face.inference.png import save_synthetic_png, synthetic_metadata
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


def collect_audio_files(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand the inputs: a folder means the audio files directly inside it (sorted by name).

    Anything else is kept as given, so a missing or unreadable file is reported by the decoder
    in the same words as everywhere else; a folder without audio files is kept too, and
    :func:`write_portraits` reports it.
    """
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        found = sorted(p for p in path.iterdir() if _is_audio(p)) if path.is_dir() else []
        files.extend(found or [path])
    return files


def _is_audio(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in AUDIO_EXTENSIONS


def _embed(pipe: VoiceToFace, path: Path):
    if path.is_dir():
        raise AudioError(
            f"{path} is a directory with no audio files (.wav, .flac, .ogg, .mp3, ...); "
            "give audio files or a folder that contains some."
        )
    return pipe.embed(path)  # [D]


def output_names(files: Sequence[Path], num_samples: int, as_grid: bool) -> dict[Path, list[str]]:
    """The PNG names each input will get; two inputs that would write the same names are a ConfigError."""
    names: dict[Path, list[str]] = {}
    owner: dict[str, Path] = {}
    for path in files:
        stem = path.stem or path.name
        names[path] = [f"{stem}.png"] if as_grid else [f"{stem}_{k}.png" for k in range(num_samples)]
        if stem in owner and owner[stem] != path:
            raise ConfigError(
                f"{owner[stem]} and {path} would both write {names[path][0]}; rename one or process them separately."
            )
        owner[stem] = path
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
    progress: bool = True,
    on_error: Callable[[Path, str], None] | None = None,
) -> PortraitResult:
    """Generate ``num_samples`` faces per input recording and write them as PNGs into ``out_dir``.

    inputs: audio files and/or folders of them. ``on_error(path, message)`` is called for each
    input that fails (AudioError: unreadable, no speech, too long...); the rest go on.
    ``out_dir`` is created only when there is something to write.
    """
    from tqdm import tqdm

    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or not 1 <= num_samples <= 1024:
        raise ConfigError(f"num_samples must be a whole number 1–1024, got {num_samples!r}.")
    files = collect_audio_files(inputs)
    names = output_names(files, num_samples, as_grid)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"Output {out} is a file, not a folder; choose another -o folder.")
    result = PortraitResult()
    bar = tqdm(files, desc="portraits", unit="voice", disable=True if (not progress or len(files) < 2) else None)
    for path in bar:
        try:
            embedding = _embed(pipe, path)  # [D]
        except AudioError as exc:
            result.failed.append((path, str(exc)))
            if on_error is not None:
                on_error(path, str(exc))
            continue
        images = pipe.generate_tensors(embedding[None].repeat(num_samples, axis=0), seed, truncation_psi)
        common = dict(model=pipe.name, seed=seed, truncation_psi=truncation_psi, source=path.name)
        if as_grid:
            columns = min(num_samples, 4)
            pictures = [(image_grid(images, columns), synthetic_metadata(**common, samples=num_samples))]
        else:
            pictures = [(picture, synthetic_metadata(**common, sample=k)) for k, picture in enumerate(to_pil(images))]
        result.written.extend(_write_all(out, names[path], pictures))
        result.recordings += 1
    return result


def _write_all(out: Path, names: list[str], pictures: list) -> list[Path]:
    """Write every picture of one input, or (on any error) none of them."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for name, (picture, metadata) in zip(names, pictures, strict=True):
            save_synthetic_png(picture, out / name, metadata)
            written.append(out / name)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return written
