#!/usr/bin/env bash
# The whole check, from a fresh clone with only Python 3.11+: make a virtual
# environment, install asyncdi with its test tools, then lint, type-check and test.
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

echo "== ruff"
.venv/bin/ruff check asyncdi tests examples bench
echo "== mypy --strict"
.venv/bin/mypy --strict asyncdi tests/typing
echo "== pytest"
.venv/bin/python -m pytest --cov=asyncdi --cov-report=term "$@"
