"""Networks: SE-ResNet18 voice encoder, conditional StyleGAN2 (with identity head), StyleGAN v1
and DCGAN baselines, and the voice→W+ mapper of the paper's route (models.wplus), all pure PyTorch.
Nothing here reads or writes files (see voice2face.storage.checkpoint) except models.pretrained, the
safe importer of official StyleGAN2 checkpoints; build networks from configs with
voice2face.models.registry: ``build(kind, config)``, or ``build_generator(config)`` and the like."""

from voice2face.models.registry import build, build_discriminator, build_generator, build_mapper, build_voice_encoder

__all__ = ["build", "build_discriminator", "build_generator", "build_mapper", "build_voice_encoder"]
