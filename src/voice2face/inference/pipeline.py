"""VoiceToFace: from a recording (file or waveform) to synthetic face images with a saved model.

    pipe = VoiceToFace.from_pretrained()                  # the bundled model; or a model/run folder
    faces = pipe("voice.wav", num_samples=4, seed=0)      # 4 PIL images
    pipe.save(faces, "out", name="voice")                 # out/voice_0.png …, marked synthetic

The chain is decode → VAD → features (the model folder's FeatureConfig) → voice encoder →
generator. Speech longer than ``segment_seconds`` is cut into near-equal windows whose
embeddings are averaged (the encoder was trained on 3–8 s crops); shorter speech is tiled up
to ``min_seconds``. Latent codes come from a ``torch.Generator`` seeded with ``seed`` on the
CPU and the generator's noise is the stored constant, so the same call (voice, seed, number of
samples) always gives the same pixels, and sample k gets the same latent however many samples
are asked for (its pixels can then differ by float rounding: batch size changes summation order).
Each image's ``info`` records how it was made (Model, Seed, Sample, TruncationPsi, Source), and
:meth:`VoiceToFace.save` writes those into PNGs marked as synthetic; PIL's own ``.save()`` does not.
A recording that does not sound like speech is refused (:mod:`voice2face.audio.speechlike`).

Never imports ``training/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from voice2face.audio.features import feature_windows
from voice2face.audio.io import suffix_for_content
from voice2face.audio.pipeline import Speech, load_speech, speech_features, speech_from_array
from voice2face.audio.speechlike import check_speech_like
from voice2face.config import AudioConfig, InferenceConfig, ModelConfig, VADConfig
from voice2face.errors import CheckpointError, ConfigError
from voice2face.models.embedding import embed_utterances, encode_windows
from voice2face.models.generation import generate_faces, images_per_pass
from voice2face.storage import ModelFolder, resolve
from voice2face.storage.layout import BUNDLED_MODEL_NAME, MODEL_DIR
from voice2face.storage.png import metadata_of, save_synthetic_pngs, synthetic_metadata, synthetic_png_bytes
from voice2face.utils.files import prepare_output_dir, remove_empty_dirs
from voice2face.utils.images import to_pil

AudioInput = str | Path | np.ndarray


__all__ = ["VoiceToFace", "model_display_name", "suffix_for_content"]


def model_display_name(model_dir: Path) -> str:
    """A short name for a model folder in PNG metadata: ``bundled``, ``RUN/model`` or the folder name."""
    if model_dir == ModelFolder.bundled().path:
        return BUNDLED_MODEL_NAME
    resolved = model_dir.resolve()
    if resolved.name == MODEL_DIR and resolved.parent.name:
        return f"{resolved.parent.name}/{MODEL_DIR}"
    return resolved.name


class VoiceToFace:
    """A loaded voice encoder + face generator, and the audio settings to feed them.

    Build with :meth:`from_pretrained`. Calling it gives PIL images; :meth:`embed` and
    :meth:`generate` expose the two halves. A model of a voice encoder alone has
    ``generator`` None: it embeds, and the second half raises CheckpointError.
    """

    def __init__(
        self,
        config: ModelConfig,
        voice_encoder: nn.Module,
        generator: nn.Module | None,
        *,
        name: str = "",
        model_dir: str | Path | None = None,
        device: str | torch.device = "cpu",
        audio: AudioConfig | None = None,
        vad: VADConfig | None = VADConfig(),
        inference: InferenceConfig | None = None,
    ) -> None:
        if config.voice_encoder is None:
            raise ConfigError("VoiceToFace needs a model config with a voice_encoder.")
        if (config.generator is None) != (generator is None):
            raise ConfigError("VoiceToFace needs a generator exactly when the model config describes one.")
        unconditional = generator is not None and config.generator.c_dim != config.voice_encoder.embedding_dim
        if unconditional and config.mapper is None:
            raise CheckpointError(
                f"Model {name or 'given'} has an unconditional generator (c_dim {config.generator.c_dim}) and no "
                "voice-to-W+ mapper; train one with `voice2face train --preset synthvox-wplus-64 --generator ...`."
            )
        sample_rate = config.features.active.sample_rate
        self.config = config
        self.name = name
        self.model_dir = None if model_dir is None else Path(model_dir)
        self.device = torch.device(device)
        self.voice_encoder = voice_encoder.to(self.device).eval()
        # None for a voice encoder alone (a train-encoder run): it embeds voices, and draws no faces.
        self.generator = None if generator is None else generator.to(self.device).eval()
        # Decode at the rate the model's features were computed at, whatever else ``audio`` says.
        audio = audio or AudioConfig(sample_rate=sample_rate)
        if audio.sample_rate != sample_rate:
            audio = AudioConfig(sample_rate, audio.min_speech_seconds, audio.max_seconds)
        self.audio = audio
        self.vad = vad
        self.inference = inference or InferenceConfig()

    @classmethod
    def from_pretrained(
        cls,
        model_dir: str | Path | None = None,
        device: str | torch.device = "cpu",
        *,
        audio: AudioConfig | None = None,
        vad: VADConfig | None = VADConfig(),
        inference: InferenceConfig | None = None,
    ) -> VoiceToFace:
        """Load a model folder (or a run folder holding ``model/``; None: the bundled model).

        A folder with a voice encoder alone (a ``train-encoder`` run) loads too: :meth:`embed`
        works, and drawing faces raises CheckpointError (see :meth:`require_generator`).
        Raises CheckpointError naming the file and the fix for a missing, corrupt or
        tampered folder, or one without a voice encoder.
        """
        _check_device(device)
        folder = resolve(model_dir)
        directory = folder.path
        if folder.config().generator is None:
            config, modules = folder.load(("voice_encoder",), device=device)
        else:
            config, modules = folder.load_voice_to_face(device=device)
        return cls(
            config,
            modules["voice_encoder"],
            modules.get("generator"),
            name=model_display_name(directory),
            model_dir=directory,
            device=device,
            audio=audio,
            vad=vad,
            inference=inference,
        )

    # ------------------------------------------------------------------ audio → embedding

    @property
    def embedding_dim(self) -> int:
        """D, the size of a voice embedding (= the generator's condition size)."""
        return self.config.voice_encoder.embedding_dim

    def speech(self, audio: AudioInput, sample_rate: int | None = None) -> Speech:
        """Decode (a path) or prepare (a waveform ``[N]``/``[N, C]`` at ``sample_rate``) and keep the speech.

        Raises NonSpeechError when what is kept does not sound like speech, unless
        ``InferenceConfig.allow_non_speech`` (then it logs a warning).
        """
        if isinstance(audio, np.ndarray):
            if sample_rate is None:
                raise ConfigError("a numpy waveform needs its sample_rate (e.g. pipe(samples, sample_rate=16000)).")
            speech = speech_from_array(audio, sample_rate, self.audio, self.vad)
        elif isinstance(audio, (str, Path)):
            speech = load_speech(audio, self.audio, self.vad)
        else:
            raise ConfigError(f"audio must be a file path or a numpy waveform, got {type(audio).__name__}.")
        check_speech_like(speech.speech, speech.sample_rate, speech.source, allow=self.inference.allow_non_speech)
        return speech

    def windows(self, speech: Speech) -> np.ndarray:
        """The kept speech's features as equal-length windows ``[S, F, L]`` (tiled when short, split when long)."""
        features = speech_features(speech, self.config.features)  # [F, T]
        frames_per_second = self.config.features.frames_per_second
        min_frames = max(1, round(self.inference.min_seconds * frames_per_second))
        max_frames = max(min_frames, round(self.inference.segment_seconds * frames_per_second))
        return feature_windows(features, min_frames, max_frames)  # [S, F, L]

    def encode(self, features: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Voice encoder on a batch of feature windows ``[B, F, T]`` → embeddings ``[B, D]`` (CPU float32)."""
        shape = tuple(features.shape)
        if len(shape) != 3 or shape[1] != self.config.voice_encoder.input_dim:
            raise ConfigError(f"features must be [B, {self.config.voice_encoder.input_dim}, T], got {shape}.")
        return encode_windows(self.voice_encoder, features, device=self.device, batch_size=self.inference.batch_size)

    def embed(self, audio: AudioInput, sample_rate: int | None = None) -> np.ndarray:
        """One recording → its voice embedding ``[D]`` float32 (mean over windows of its speech)."""
        return self.embed_speech(self.speech(audio, sample_rate))

    def embed_speech(self, speech: Speech) -> np.ndarray:
        """The speech :meth:`speech` kept → its voice embedding ``[D]`` float32."""
        windows = self.windows(speech)  # [S, F, L]
        embedding = embed_utterances(
            self.voice_encoder, [windows], device=self.device, batch_size=self.inference.batch_size
        )  # [1, D]
        return embedding[0].numpy()  # [D]

    # ------------------------------------------------------------------ embedding → faces

    @property
    def has_generator(self) -> bool:
        """Whether the model can draw faces (False for a voice encoder alone, e.g. a train-encoder run)."""
        return self.generator is not None

    def require_generator(self) -> None:
        """Raise CheckpointError, naming the model folder and the fix, when the model has no generator."""
        if self.generator is None:
            folder = self.model_dir or self.name or "given"
            raise CheckpointError(
                f"Model {folder} holds a voice encoder only, so it can embed voices but not draw faces; train a "
                f"generator on it with `voice2face train --encoder {folder}` or use a model folder that has one."
            )

    def generate_tensors(
        self, embeddings: np.ndarray | torch.Tensor, seed: int = 0, truncation_psi: float = 1.0
    ) -> torch.Tensor:
        """Embeddings ``[N, D]`` → images ``[N, 3, R, R]`` in [-1, 1] on the CPU, one latent per row.

        Row i uses the i-th ``[1, z_dim]`` latent drawn from ``torch.Generator().manual_seed(seed)``.
        """
        self.require_generator()
        condition = torch.as_tensor(np.asarray(embeddings, dtype=np.float32))
        if condition.ndim == 1:
            condition = condition[None]
        if condition.ndim != 2 or condition.shape[1] != self.embedding_dim or condition.shape[0] < 1:
            raise ConfigError(f"embeddings must be [N, {self.embedding_dim}], got {tuple(condition.shape)}.")
        if not torch.isfinite(condition).all():
            raise ConfigError("embeddings contain NaN or infinite values; compute them with pipe.embed().")
        _check_sampling(seed, truncation_psi)
        return generate_faces(
            self.generator, condition, seed=seed, latent_rule="per_row", truncation_psi=truncation_psi,
            noise_mode=self.inference.noise_mode, batch_size=self.images_per_pass, device=self.device,
        )  # fmt: skip  # [N, 3, R, R]

    @property
    def images_per_pass(self) -> int:
        """Faces per generator pass: ``inference.batch_size``, fewer where they would not fit in
        ``inference.memory_mb`` (a 1024 px model on CPU)."""
        return images_per_pass(self.config.generator, self.inference.memory_mb, self.inference.batch_size)

    def generate(
        self, embeddings: np.ndarray | torch.Tensor, seed: int = 0, truncation_psi: float = 1.0
    ) -> list[Image.Image]:
        """Embeddings ``[N, D]`` (or one ``[D]``) → N RGB PIL images, face i from latent i of ``seed``.

        Each image's ``info`` carries the synthetic notice and Model, Seed, Sample, TruncationPsi
        for :meth:`save`.
        """
        images = to_pil(self.generate_tensors(embeddings, seed, truncation_psi))
        for sample, image in enumerate(images):
            image.info.update(
                synthetic_metadata(model=self.name, seed=seed, sample=sample, truncation_psi=truncation_psi)
            )
        return images

    def portraits(
        self, speech: Speech, num_samples: int, seed: int = 0, truncation_psi: float = 1.0
    ) -> list[Image.Image]:
        """The speech :meth:`speech` kept → ``num_samples`` faces of that voice (latents 0..N-1 of ``seed``)."""
        embedding = self.embed_speech(speech)  # [D]
        return self.generate(np.repeat(embedding[None], num_samples, axis=0), seed, truncation_psi)

    def png_bytes(self, image: Image.Image) -> bytes:
        """One of :meth:`generate`'s images as PNG file bytes, marked synthetic as :meth:`save` marks them."""
        return synthetic_png_bytes(image, metadata_of(image, model=self.name))

    def save(self, images: list[Image.Image], folder: str | Path, name: str = "face") -> list[Path]:
        """Write ``images`` to ``folder/{name}_0.png``, ``{name}_1.png`` … as PNGs marked synthetic.

        Each file carries the synthetic-image notice, the IPTC ``trainedAlgorithmicMedia`` marker
        and what its image's ``info`` says about how it was made (:mod:`voice2face.storage.png`).
        ``folder`` is created if needed; files of the same names are replaced. All files are
        written, or none. Returns their paths. Raises OutputError for a folder that cannot be
        created or written, ConfigError for a ``name`` that is not a plain file-name stem.
        """
        if not name or Path(name).name != name or name.startswith("."):
            raise ConfigError(f"name must be a plain file-name stem such as 'voice', got {name!r}.")
        if not all(isinstance(image, Image.Image) for image in images):
            raise ConfigError("images must be PIL images, as pipe(...) and pipe.generate(...) return.")
        out = Path(folder)
        created = prepare_output_dir(out)
        pictures = [(image, metadata_of(image, model=self.name)) for image in images]
        try:
            return save_synthetic_pngs(pictures, [out / f"{name}_{k}.png" for k in range(len(images))])
        except BaseException:
            remove_empty_dirs(created)
            raise

    def __call__(
        self,
        audio: AudioInput,
        num_samples: int = 4,
        seed: int = 0,
        truncation_psi: float = 1.0,
        sample_rate: int | None = None,
    ) -> list[Image.Image]:
        """A recording (path, or waveform with ``sample_rate``) → ``num_samples`` faces of that voice."""
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or not 1 <= num_samples <= 1024:
            raise ConfigError(f"num_samples must be a whole number 1–1024, got {num_samples!r}.")
        _check_sampling(seed, truncation_psi)
        self.require_generator()  # before the recording is decoded
        images = self.portraits(self.speech(audio, sample_rate), num_samples, seed, truncation_psi)
        if isinstance(audio, (str, Path)):
            for image in images:
                image.info["Source"] = Path(audio).name  # the file's name, never its folders
        return images


def _check_device(device: str | torch.device) -> None:
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError):
        raise ConfigError(f"device {device!r} is not a torch device; use cpu or cuda.") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device cuda was asked for but this machine has no usable CUDA GPU; use cpu.")


def _check_sampling(seed: int, truncation_psi: float) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise ConfigError(f"seed must be a whole number 0 ≤ seed < 2**63, got {seed!r}.")
    if not (isinstance(truncation_psi, (int, float)) and 0.0 <= truncation_psi <= 1.0):
        raise ConfigError(f"truncation_psi must be between 0 and 1 (1 = no truncation), got {truncation_psi!r}.")
