"""A tripwire for the evaluation's trained instruments: their cache keys carry the revision of the code
that trains them (metrics.cache.INSTRUMENTS_REVISION), and nothing else notices when that code changes.

A trait read-out once changed under an unchanged key (between 19f99af and 8d09778: same corpus, same
settings, other weights), and the shipped copy went on being used as if it were the one `evaluate`
trains. So every edit of the files below must be a decision: if it can change what an instrument
learns for the same data and settings (arithmetic, order of operations, initialisation, labels,
architecture), raise INSTRUMENTS_REVISION and re-ship ``assets/instruments`` (the trait read-out's
README says how); if it cannot (a docstring, a rename), only record the new digest here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import voice2face
from voice2face.metrics.cache import INSTRUMENTS_REVISION

PACKAGE = Path(voice2face.__file__).parent

#: The revision and the first 16 hex digits of each file's SHA-256 when it was last decided.
DECIDED_REVISION = 2
DECIDED = {
    "metrics/face_cnn.py": "da6f1fe9dc461743",
    "metrics/traits.py": "7bb35899e8336a09",
    "metrics/descriptors.py": "bc079573b7d44988",
    "models/face_nets.py": "f3f09a3a2c108a44",
}


@pytest.mark.parametrize("name", sorted(DECIDED))
def test_the_instrument_code_is_the_code_its_revision_was_decided_for(name):
    digest = hashlib.sha256((PACKAGE / name).read_bytes()).hexdigest()[:16]
    assert digest == DECIDED[name] and INSTRUMENTS_REVISION == DECIDED_REVISION, (
        f"{name} changed (digest {digest}) since instrument revision {DECIDED_REVISION} was decided: if the "
        "change can alter what a trained instrument learns, raise INSTRUMENTS_REVISION in metrics/cache.py and "
        f"re-ship assets/instruments; then record revision {INSTRUMENTS_REVISION} and the new digests in "
        "tests/test_instrument_revision.py."
    )
