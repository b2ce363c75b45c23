#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv, idempotently.
#   scripts/setup-env.sh          runtime dependencies
#   scripts/setup-env.sh dev      plus the test/benchmark peers (pytest, ruff, librosa, ...)
# torch is installed first at exactly 2.13.0 (the CPU wheel) and pinned with constraints.txt so
# that no later requirement can swap in a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
venv="${VOICE2FACE_VENV:-.venv}"
python="${PYTHON:-python3}"
stamp="$venv/.installed${extra:+-$extra}"

if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] && [ "$stamp" -nt constraints.txt ]; then
    exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating virtual environment in $venv" >&2
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
# Some machines' pip configuration names local index folders that do not exist; pip warns
# once per package about each. Drop exactly that warning, keep every other message.
quiet_pip() {
    "${pip[@]}" "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}
if ! "$venv/bin/python" -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
    echo "setup: installing torch 2.13.0 (CPU)" >&2
    quiet_pip install "torch==2.13.0"
fi
echo "setup: installing voice2face${extra:+[$extra]}" >&2
quiet_pip install -c constraints.txt -e ".${extra:+[$extra]}"
touch "$stamp"
