#!/usr/bin/env bash
# Regenerate requirements.lock: the exact set of packages (with their hashes) that the test suite
# passed with. It pins the versions installed in the running environment, so run it after
# `pip install -e ".[test]"` and a green `python -m pytest -q`, whenever pyproject's dependencies change.
#
# torch is left out of the lock: PyPI's Linux wheel of torch is the CUDA build, which pulls gigabytes
# of NVIDIA libraries, so users install the CPU build first (README). The resolution still has to see
# the CPU wheel, so that torch's own dependencies are locked and no NVIDIA package is:
# TORCH_WHEELS names a folder holding it (default /opt/wheels; `pip download` the CPU build of
# torch==2.13.0 into a folder elsewhere). Needs uv (`pip install uv`).
set -euo pipefail
cd "$(dirname "$0")/.."

torch_wheels=${TORCH_WHEELS:-/opt/wheels}
if ! command -v uv >/dev/null; then
    echo "scripts/lock.sh: needs uv: pip install uv" >&2
    exit 1
fi
if ! ls "$torch_wheels"/torch-*cpu*.whl >/dev/null 2>&1; then
    echo "scripts/lock.sh: no CPU wheel of torch in $torch_wheels; set TORCH_WHEELS to a folder holding one" >&2
    exit 1
fi

installed=$(mktemp)
trap 'rm -f "$installed"' EXIT
python -m pip freeze --all --exclude-editable >"$installed"

uv pip compile --quiet pyproject.toml --extra test --generate-hashes --python-version 3.11 \
    --constraints "$installed" --find-links "$torch_wheels" --no-emit-package torch \
    --custom-compile-command "scripts/lock.sh" --output-file requirements.lock
# The constraints file is a temporary one: naming it in every "via" would change the lock on each run.
sed -i '\|^    #   -c /|d' requirements.lock

# A package that is not installed here was locked at the newest version, which the tests never ran.
python - "$installed" <<'PY'
import re
import sys

installed = {}
for line in open(sys.argv[1], encoding="utf-8"):
    name, _, version = line.strip().partition("==")
    installed[re.sub(r"[-_.]+", "-", name).lower()] = version
untested = []
for line in open("requirements.lock", encoding="utf-8"):
    match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
    if match:
        name = re.sub(r"[-_.]+", "-", match[1]).lower()
        if installed.get(name) != match[2]:
            untested.append(f"{match[1]}=={match[2]} (installed: {installed.get(name, 'none')})")
if untested:
    sys.exit("scripts/lock.sh: locked versions the tests did not run with; install them and test:\n  "
             + "\n  ".join(untested))
print("requirements.lock: every locked version is the one installed here")
PY
