#!/usr/bin/env bash
# Quick start: install what is missing, build mmusim, and simulate the bundled sample trace
# with the embedded default config, printing the report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec build/mmusim run traces/samples/ls.mmt
