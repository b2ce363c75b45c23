"""Measuring faces: plain functions and the instruments they use; no registry here.

Each function takes its inputs as arguments (images, embeddings, a network, a config) and returns a
dict of results, so a test or a notebook can call it directly; ``voice2face evaluate`` names them
through its registry (:mod:`voice2face.evaluation.registry`). A metric that needs what this
machine does not have (weights, a package) raises :class:`~voice2face.errors.MetricUnavailableError`.

Modules: ``fid`` (FID, KID, Fréchet distance in other embeddings; the Inception port lives in
``inception``), ``ppl`` (perceptual path length), ``lpips`` (LPIPS-VGG16 and the diversity of a
set of faces under it), ``identity`` (1:2 matching, recall@K, cosine, attribute agreement),
``embedders`` and ``face_cnn`` (face embedders and the small face CNN), ``realism`` (the
two-sample test, sharpness), ``traits`` and ``descriptors`` (the two trait read-outs), ``probe``
(a linear probe of voice embeddings), and ``cache`` (cached real-image statistics and trained
instruments, keyed by what determines them).
"""
