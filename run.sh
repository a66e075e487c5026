#!/usr/bin/env bash
# The coding challenge's entry point, kept working:
#   log_input/batch_log.json + log_input/stream_log.json -> log_output/flagged_purchases.json
#
# Needs only python3. It runs the netflag found in ./src with, in order:
#   $NETFLAG_PYTHON, if set;
#   ./.venv/bin/python, the development environment, if it exists;
#   a shared environment holding only netflag's dependencies, created on first
#   use under ${XDG_CACHE_HOME:-~/.cache}/netflag/ (so the challenge harness,
#   which copies this script into a folder with nothing but src/ and the logs,
#   works too). tests/test_layout.py keeps DEPENDENCIES equal to pyproject.toml.
# and builds the compiled core next to its source the first time (scripts/build-core).
set -euo pipefail

DEPENDENCIES="numpy>=1.26 orjson>=3.9 polars>=1.20 sortedcontainers>=2.4 typer>=0.12,<0.29 rich>=13.7"
# What building the compiled core takes (scripts/build-core); not needed to run.
BUILD_TOOLS="setuptools>=77 Cython>=3.0"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

shared_env() {
  local root="${XDG_CACHE_HOME:-$HOME/.cache}/netflag"
  local env="$root/env-$(printf '%s' "$DEPENDENCIES $BUILD_TOOLS" | cksum | cut -d' ' -f1)"
  if [ ! -x "$env/bin/python" ]; then
    echo "run.sh: first run, installing netflag's dependencies into $env (once)" >&2
    mkdir -p "$root"
    local building
    building="$(mktemp -d "$root/building.XXXXXX")"
    # shellcheck disable=SC2086  # DEPENDENCIES is a list of words
    python3 -m venv "$building" >&2 && "$building/bin/python" -m pip install -q $DEPENDENCIES $BUILD_TOOLS >&2
    # Another run may have finished first; either copy is complete and usable.
    mv -T "$building" "$env" 2>/dev/null || rm -rf "$building"
  fi
  echo "$env/bin/python"
}

if [ -n "${NETFLAG_PYTHON:-}" ]; then
  python="$NETFLAG_PYTHON"
elif [ -x "$here/.venv/bin/python" ]; then
  python="$here/.venv/bin/python"
else
  python="$(shared_env)"
fi

# The compiled core is built in place, once (the harness's copy of src/ takes it along).
if [ -x "$here/scripts/build-core" ]; then
  "$here/scripts/build-core" "$python"
fi

PYTHONPATH="$here/src${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m netflag replay \
  log_input/batch_log.json log_input/stream_log.json log_output/flagged_purchases.json "$@"
