#!/usr/bin/env bash
# The whole check, from a fresh clone with only Python 3.11+: make a virtual
# environment, install asyncdi with its test tools, then lint, type-check and test on
# 3.11 (with coverage), then test again on 3.12 and 3.13 wherever those interpreters
# exist (on PATH or under ~/.pyenv/versions). Lint or type errors stop at once; the tests
# run on every version found, and the script exits non-zero if any of them failed.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

echo "== ruff"
.venv/bin/ruff check asyncdi tests examples bench
.venv/bin/ruff format --check asyncdi tests examples bench
echo "== mypy --strict"
.venv/bin/mypy --strict asyncdi tests/typing
failed=()
echo "== pytest ($(.venv/bin/python -c 'import sys; print(sys.version.split()[0])'))"
if ! .venv/bin/python -m pytest --cov=asyncdi --cov-report=term "$@"; then
    failed+=("3.11")
fi

# An interpreter of version $1 (e.g. 3.12) that really runs: a pyenv shim on PATH for a
# version that is not selected exists but fails, so each candidate is tried.
find_python() {
    local version=$1 candidate
    for candidate in "$(command -v "python$version" || true)" \
        "$HOME"/.pyenv/versions/"$version"*/bin/python"$version"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c \
            "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))" \
            >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

for version in 3.12 3.13; do
    venv=.venv${version/./}
    if ! interpreter=$(find_python "$version"); then
        echo "== pytest $version: no interpreter found, skipped"
        continue
    fi
    echo "== pytest $version ($interpreter, in $venv)"
    if [ ! -x "$venv/bin/python" ]; then
        "$interpreter" -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
    if ! "$venv/bin/python" -m pytest -p no:cacheprovider "$@"; then
        failed+=("$version")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "== pytest failed on Python ${failed[*]}"
    exit 1
fi
