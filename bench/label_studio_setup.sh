#!/usr/bin/env bash
# Installs Label Studio 1.23.2 into .venv-labelstudio/ (ignored by git) for bench/label_studio.py.
# Label Studio is only a yardstick here: nothing of it is committed or imported by FeedbackQL.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
if [ ! -x .venv-labelstudio/bin/label-studio ]; then
    "$PYTHON" -m venv .venv-labelstudio
    .venv-labelstudio/bin/pip install --quiet --upgrade pip
    .venv-labelstudio/bin/pip install --quiet label-studio==1.23.2
fi
# (`pip show`, not `label-studio version`: that creates a database in ~/.local/share.)
.venv-labelstudio/bin/pip show label-studio | grep -E '^(Name|Version):'
