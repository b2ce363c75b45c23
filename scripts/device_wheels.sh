#!/usr/bin/env bash
# Fetch, into .whl/ (git-ignored), the wheels that a lent GPU machine lacks for voice2face: its python3
# (3.12) holds PyTorch, numpy, scipy, pillow, safetensors and tqdm, not these. The versions are the
# ones .venv holds here. Carry .whl to that machine and install them there with
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
# (scripts/pretrain_on_device.py's docstring gives the whole command).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
wanted=()
for name in soundfile cffi pycparser tensorboardX webrtcvad-wheels; do
    version=$("$python" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p')
    if [ -z "$version" ]; then
        echo "device_wheels: $name is not installed in $python's environment; run make setup first" >&2
        exit 2
    fi
    wanted+=("$name==$version")
done
mkdir -p .whl
"$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl "${wanted[@]}"
ls .whl
