#!/usr/bin/env bash
# Builds wp with ASan + UBSan and warnings as errors, then runs the whole test
# suite (unit tests and integration tests through the real binary).
set -euo pipefail
cd "$(dirname "$0")/.."

packaging/debian-deps.sh
jobs=$(nproc)
cmake --preset ci
cmake --build --preset ci -j"$jobs"
ctest --preset ci -j"$jobs"
