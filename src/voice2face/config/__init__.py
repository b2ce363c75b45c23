"""Typed, frozen configuration for every component, serialisable to and from JSON.

No torch here: configs are read by the CLI, written beside weights and into run folders,
and must load without building anything. Each config validates its ranges on construction
and raises :class:`~voice2face.errors.ConfigError` with one sentence naming the field.

One module per domain (:mod:`.base` holds the dict/JSON round trip and the range check);
every public name is re-exported here, so ``from voice2face.config import X`` is the way in.
"""

from __future__ import annotations

from voice2face.config.audio import (
    FEATURE_KINDS,
    SAMPLE_RATE,
    VAD_AGGRESSIVENESS,
    VAD_BACKENDS,
    AudioConfig,
    FeatureConfig,
    LogMelConfig,
    MFCCConfig,
    VADConfig,
)
from voice2face.config.base import (
    check,
    from_dict,
    load_json,
    save_json,
    to_dict,
)
from voice2face.config.data import (
    FACE_CORPUS_SEED,
    PAPER_IDENTITIES,
    PAPER_SPLIT_SUBJECTS,
    SPLITS,
    SynthVoxConfig,
)
from voice2face.config.evaluation import (
    DEFAULT_EVALUATION_METRICS,
    REFERENCE_ROWS,
    EvaluationConfig,
)
from voice2face.config.inference import (
    InferenceConfig,
)
from voice2face.config.metrics import (
    ATTRIBUTE_BLUR,
    PPL_SAMPLINGS,
    PPL_SPACES,
    TRAIT_CNN,
    C2STConfig,
    DescriptorConfig,
    FaceCNNConfig,
    FIDConfig,
    IdentityMetricsConfig,
    LPIPSConfig,
    PPLConfig,
)
from voice2face.config.models import (
    DEFAULT_OPS_IMPL,
    ENCODER_ACTIVATIONS,
    ENCODER_ATTENTIONS,
    ENCODER_POOLINGS,
    GENERATOR_FAMILIES,
    MAPPER_FAMILIES,
    MODEL_COMPONENTS,
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    OPS_IMPLS,
    SELECTION_TRAITS,
    DiscriminatorConfig,
    GeneratorConfig,
    MapperConfig,
    ModelConfig,
    PoolConfig,
    SelectionConfig,
    VoiceEncoderConfig,
    WeightFile,
)
from voice2face.config.training import (
    AUGMENT_POLICIES,
    PRESET_NAMES,
    CropConfig,
    EncoderTrainingConfig,
    GANTrainingConfig,
    MapperTrainingConfig,
    ProjectionConfig,
    TrainingPreset,
)

__all__ = [
    "ATTRIBUTE_BLUR",
    "AUGMENT_POLICIES",
    "DEFAULT_EVALUATION_METRICS",
    "DEFAULT_OPS_IMPL",
    "ENCODER_ACTIVATIONS",
    "ENCODER_ATTENTIONS",
    "ENCODER_POOLINGS",
    "FACE_CORPUS_SEED",
    "FEATURE_KINDS",
    "GENERATOR_FAMILIES",
    "MAPPER_FAMILIES",
    "MODEL_COMPONENTS",
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "OPS_IMPLS",
    "PAPER_IDENTITIES",
    "PAPER_SPLIT_SUBJECTS",
    "PPL_SAMPLINGS",
    "PPL_SPACES",
    "PRESET_NAMES",
    "REFERENCE_ROWS",
    "SAMPLE_RATE",
    "SELECTION_TRAITS",
    "SPLITS",
    "TRAIT_CNN",
    "VAD_AGGRESSIVENESS",
    "VAD_BACKENDS",
    "AudioConfig",
    "C2STConfig",
    "CropConfig",
    "DescriptorConfig",
    "DiscriminatorConfig",
    "EncoderTrainingConfig",
    "EvaluationConfig",
    "FIDConfig",
    "FaceCNNConfig",
    "FeatureConfig",
    "GANTrainingConfig",
    "GeneratorConfig",
    "IdentityMetricsConfig",
    "InferenceConfig",
    "LPIPSConfig",
    "LogMelConfig",
    "MFCCConfig",
    "MapperConfig",
    "MapperTrainingConfig",
    "ModelConfig",
    "PPLConfig",
    "PoolConfig",
    "ProjectionConfig",
    "SelectionConfig",
    "SynthVoxConfig",
    "TrainingPreset",
    "VADConfig",
    "VoiceEncoderConfig",
    "WeightFile",
    "check",
    "from_dict",
    "load_json",
    "save_json",
    "to_dict",
]
