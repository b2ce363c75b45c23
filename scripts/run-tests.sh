#!/usr/bin/env bash
# Run the test suite in .venv. pytest's exit code 5 ("no tests collected") means the suite
# itself went missing, which must not pass as green.
set -uo pipefail
cd "$(dirname "$0")/.."
venv="${VOICE2FACE_VENV:-.venv}"
"$venv/bin/python" -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "run-tests: pytest collected no tests; the test suite is missing or was deselected" >&2
    exit 1
fi
exit "$rc"
