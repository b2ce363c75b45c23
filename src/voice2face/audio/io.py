"""Decode any reasonable recording into float32 mono samples in [-1, 1] at a fixed rate.

WAV/FLAC/OGG/AIFF (any bit depth, channel count and rate) are decoded by soundfile
(libsndfile); compressed formats (mp3, m4a, aac, ...) go through an ``ffmpeg`` binary when
one is on PATH, and otherwise get an error that says to install it. Resampling uses scipy's polyphase filter, whose
Kaiser-windowed low-pass removes content above the new Nyquist frequency before decimation.
Bad input raises :class:`~voice2face.errors.AudioError` with one sentence naming the file.
"""

from __future__ import annotations

import logging
import math
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import soundfile

from voice2face.config.audio import SAMPLE_RATE
from voice2face.errors import AudioError

log = logging.getLogger(__name__)

#: Extensions decoded by the ffmpeg binary.
FFMPEG_EXTENSIONS = frozenset(
    {".mp3", ".m4a", ".mp4", ".aac", ".wma", ".webm", ".mkv", ".3gp", ".amr", ".opus", ".mov"}
)
#: Extensions a folder scan treats as audio.
AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif"}) | FFMPEG_EXTENSIONS

DEFAULT_MAX_SECONDS = 600.0


def load_audio(
    path: str | Path,
    sample_rate: int = SAMPLE_RATE,
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
) -> np.ndarray:
    """Read an audio file as float32 mono samples in [-1, 1] at ``sample_rate`` Hz.

    Returns an array of shape ``[num_samples]``. Multi-channel audio is averaged to mono;
    other rates are resampled with an anti-aliasing polyphase filter. Recordings longer
    than ``max_seconds`` are refused before they are decoded in full.

    Raises :class:`AudioError` for a missing path, a directory, an empty or corrupt file, a
    WAV file whose data is shorter than its header declares (truncated), NaN/Inf samples,
    over-long audio, or a compressed format without ffmpeg.
    """
    path = Path(path)
    _check_path(path)
    if path.suffix.lower() in FFMPEG_EXTENSIONS:
        samples, source_rate = _decode_with_ffmpeg(path, sample_rate, max_seconds)
        return prepare_waveform(samples, source_rate, sample_rate, max_seconds=max_seconds, source=str(path))
    container = sniff_container(path)
    if container is None:
        raise AudioError(
            f"Cannot decode {path} as audio (no WAV/FLAC/OGG/AIFF header found): the file is corrupt, "
            "truncated or not audio; re-export it as a 16-bit PCM WAV file."
        )
    if container == "WAV":
        _check_wav_length(path)
    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(
            f"Cannot decode {path} as {container} ({_short(exc)}): the file is corrupt, truncated or "
            "not audio; re-export it as a 16-bit PCM WAV file."
        ) from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioError(f"Audio file {path} contains no samples; re-record or re-export it.")
    duration = info.frames / info.samplerate
    if duration > max_seconds:
        raise AudioError(
            f"Audio file {path} is {duration:.1f} s long, over the {max_seconds:g} s maximum; "
            "trim it or raise the maximum (--max-seconds)."
        )
    try:
        samples, source_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise AudioError(
            f"Cannot decode {path} ({_short(exc)}): the audio data is corrupt; re-export the file."
        ) from None
    if samples.shape[0] == 0:
        raise AudioError(f"Audio file {path} contains no samples (its data is missing); re-export it.")
    return prepare_waveform(samples, source_rate, sample_rate, max_seconds=max_seconds, source=str(path))


def prepare_waveform(
    samples: np.ndarray,
    source_rate: int,
    sample_rate: int = SAMPLE_RATE,
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    source: str = "the waveform",
) -> np.ndarray:
    """Validate, mix down, scale and resample an in-memory waveform.

    ``samples``: ``[N]`` or ``[N, channels]``, any real dtype (integers are scaled by their
    full range). Returns float32 ``[M]`` in [-1, 1] at ``sample_rate``.
    """
    samples = np.asarray(samples)
    if samples.ndim not in (1, 2):
        raise AudioError(f"{source} must have shape [samples] or [samples, channels], got {samples.shape}.")
    if not np.issubdtype(samples.dtype, np.number) or np.iscomplexobj(samples):
        raise AudioError(f"{source} must hold real numbers, got dtype {samples.dtype}.")
    if int(source_rate) <= 0:
        raise AudioError(f"{source} has an invalid sample rate {source_rate}; pass the rate in Hz.")
    if samples.shape[0] == 0:
        raise AudioError(f"{source} contains no samples; re-record or re-export it.")
    duration = samples.shape[0] / source_rate
    if duration > max_seconds:
        raise AudioError(
            f"{source} is {duration:.1f} s long, over the {max_seconds:g} s maximum; "
            "trim it or raise the maximum (--max-seconds)."
        )
    if np.issubdtype(samples.dtype, np.integer):
        info = np.iinfo(samples.dtype)
        offset = (int(info.max) + int(info.min) + 1) / 2.0  # 0 for signed, 128 for uint8
        samples = (samples.astype(np.float64) - offset) / (info.max - offset + 1)
    samples = samples.astype(np.float32, copy=False)
    if not np.isfinite(samples).all():
        raise AudioError(f"{source} contains NaN or infinite samples; the recording is corrupt, re-export it.")
    if samples.ndim == 2:
        samples = samples.mean(axis=1, dtype=np.float32)  # [N]
    peak = float(np.abs(samples).max())
    if peak > 1.0:
        log.warning("%s peaks at %.2f (beyond full scale); scaling it into [-1, 1].", source, peak)
        samples = samples / peak
    if int(source_rate) != sample_rate:
        samples = resample(samples, int(source_rate), sample_rate)
    return np.ascontiguousarray(np.clip(samples, -1.0, 1.0), dtype=np.float32)


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Polyphase resampling ``[N] -> [round(N * target/source)]`` with anti-aliasing."""
    if source_rate == target_rate:
        return samples
    # Imported here: scipy.signal costs ~0.6 s to import, and 16 kHz input (the usual case) never needs it.
    from scipy.signal import resample_poly

    g = math.gcd(source_rate, target_rate)
    out = resample_poly(samples.astype(np.float64), target_rate // g, source_rate // g)
    return out.astype(np.float32)


# Leading bytes of the containers handed to libsndfile. Anything else is refused before
# libsndfile sees it: given unknown bytes it falls back to probing them as MPEG audio, which
# prints decoder notes straight to the process's stderr.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"RIFF", "WAV"),
    (0, b"RIFX", "WAV"),
    (0, b"RF64", "WAV"),
    (0, b"BW64", "WAV"),
    (0, b"riff", "W64"),
    (0, b"fLaC", "FLAC"),
    (0, b"OggS", "OGG"),
    (0, b"FORM", "AIFF"),
    (0, b".snd", "AU"),
    (0, b"dns.", "AU"),
    (0, b"caff", "CAF"),
    (0, b"NIST_1A", "SPHERE"),
)


def sniff_container(path: Path) -> str | None:
    """The audio container named by the first bytes of ``path`` (e.g. "WAV"), or None."""
    with open(path, "rb") as handle:
        return _container(handle.read(16))


def _container(head: bytes) -> str | None:
    """The libsndfile container a file's first 16 bytes name (a RIFF that is not WAVE: None), or None."""
    name = _magic(head, _MAGIC)
    if name == "WAV" and head[8:12] not in (b"WAVE", b""):
        return None
    return name


def _magic(head: bytes, table: tuple[tuple[int, bytes, str], ...]) -> str | None:
    """The name of the first ``(offset, magic, name)`` of ``table`` whose magic ``head`` holds at its offset."""
    for offset, magic, name in table:
        if head[offset : offset + len(magic)] == magic:
            return name
    return None


#: Leading bytes of compressed formats that only ffmpeg decodes here, and an extension that routes
#: a file to it (for bytes that arrive without a trustworthy name: an upload).
_COMPRESSED_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"ID3", ".mp3"),
    (0, b"\xff\xfb", ".mp3"),
    (0, b"\xff\xf3", ".mp3"),
    (0, b"\xff\xf2", ".mp3"),
    (4, b"ftyp", ".m4a"),
    (0, b"\x1a\x45\xdf\xa3", ".webm"),
)


def suffix_for_content(head: bytes) -> str:
    """An extension under which :func:`load_audio` decodes a file that starts with ``head`` (its
    first 16 bytes) the right way: ``.wav`` for what libsndfile reads (WAV, FLAC, OGG, ...), the
    compressed format's for MP3 / MP4-M4A / WebM-Matroska (ffmpeg), and ``.bin`` for anything else
    (which :func:`load_audio` then refuses as not audio). The content decides, never a name."""
    container = _container(head)
    if container is not None:
        return ".wav" if container == "WAV" else f".{container.lower()}"
    return _magic(head, _COMPRESSED_MAGIC) or ".bin"


def _check_wav_length(path: Path) -> None:
    """Refuse a WAV file whose data chunk is shorter than its header declares (a cut-short copy).

    libsndfile quietly reads what is there, so without this a truncated file passes as a short
    recording, or fails later as "no speech". Streaming writers that leave the size at 0 or
    0xFFFFFFFF declare nothing and are not checked; a header too broken to walk is left to the
    decoder's own error.
    """
    layout = _wav_data_layout(path)
    if layout is None:
        return
    data_offset, declared, byte_rate, block_align = layout
    available = max(0, path.stat().st_size - data_offset)
    if declared - available < max(1, block_align):
        return  # complete, or short only of a pad byte or a partial last frame
    if byte_rate > 0 and f"{declared / byte_rate:.2f}" != f"{available / byte_rate:.2f}":
        amounts = f"{declared / byte_rate:.2f} s of audio but the file holds only {available / byte_rate:.2f} s"
    elif block_align > 0:
        amounts = f"{declared // block_align} samples but the file holds only {available // block_align}"
    else:
        amounts = f"{declared} bytes of audio but the file holds only {available}"
    raise AudioError(
        f"Audio file {path} is truncated: its header declares {amounts}; the copy or recording was cut short, "
        "so copy or export it again."
    )


def _wav_data_layout(path: Path) -> tuple[int, int, int, int] | None:
    """(data offset, declared data bytes, byte rate, block align) of a RIFF/RIFX/RF64 WAV file, or None."""
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[8:12] != b"WAVE":
            return None
        order = ">" if head[:4] == b"RIFX" else "<"
        size_64 = None
        byte_rate = block_align = 0
        position = 12
        for _ in range(64):  # real files have a handful of chunks before the data
            handle.seek(position)
            chunk = handle.read(8)
            if len(chunk) < 8:
                return None
            name, size = chunk[:4], struct.unpack(order + "I", chunk[4:])[0]
            if name == b"ds64":
                body = handle.read(16)
                if len(body) == 16:
                    size_64 = struct.unpack(order + "Q", body[8:16])[0]
            elif name == b"fmt ":
                body = handle.read(14)
                if len(body) == 14:
                    byte_rate, block_align = struct.unpack(order + "IH", body[8:14])
            elif name == b"data":
                if size == 0xFFFFFFFF and size_64 is not None:
                    size = size_64
                if size in (0, 0xFFFFFFFF):
                    return None  # a streamed file: its length was never written into the header
                return position + 8, size, byte_rate, block_align
            position += 8 + size + (size & 1)
    return None


def _check_path(path: Path) -> None:
    if not path.exists():
        raise AudioError(f"Audio file {path} does not exist; check the path.")
    if path.is_dir():
        raise AudioError(f"{path} is a directory, not an audio file; pass a WAV/FLAC/OGG file.")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioError(f"Cannot read {path} ({exc.strerror}); check its permissions.") from None
    if size == 0:
        raise AudioError(f"Audio file {path} is empty (0 bytes); re-record or re-export it.")


def _decode_with_ffmpeg(path: Path, sample_rate: int, max_seconds: float) -> tuple[np.ndarray, int]:
    """Decode a compressed file to float32 mono at ``sample_rate`` with the ffmpeg binary."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise AudioError(
            f"{path} is {path.suffix.lower()[1:]} audio, which needs ffmpeg to decode; install ffmpeg "
            "(e.g. `apt-get install ffmpeg`) or convert the file to WAV."
        )
    # Decode at most a little past the limit so an over-long file is detected without
    # holding all of it in memory.
    cmd = [
        ffmpeg,
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(path),
        "-t",
        f"{max_seconds + 1.0:.3f}",
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(sample_rate),
        "-f",
        "f32le",
        "-",
    ]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[-1] if detail else f"ffmpeg exit code {proc.returncode}"
        raise AudioError(f"ffmpeg cannot decode {path} ({reason}); the file is corrupt or not audio.")
    samples = np.frombuffer(proc.stdout, dtype="<f4")
    if samples.size == 0:
        raise AudioError(f"Audio file {path} contains no audio stream or no samples; re-export it.")
    if samples.size > max_seconds * sample_rate:
        raise AudioError(
            f"Audio file {path} is longer than the {max_seconds:g} s maximum; "
            "trim it or raise the maximum (--max-seconds)."
        )
    return samples.copy(), sample_rate


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[-1] if text else type(exc).__name__).rstrip(".")
