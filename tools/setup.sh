#!/usr/bin/env bash
# Installs the Debian packages mmusim needs to build and test, when any is missing.
# Used by tools/quickstart.sh and tools/test.sh; safe to run again (installs nothing then).
set -euo pipefail
packages=(cmake make gcc pkg-config libc6-dev
          zlib1g-dev liblzma-dev libzstd-dev libxxhash-dev libelf-dev
          libinih-dev libjansson-dev check
          xz-utils zstd gzip valgrind python3 gnuplot-nox
          clang libclang-rt-14-dev
          slurm-wlm munge)   # tests/e2e/sweep_slurm.sh starts a one-node SLURM cluster
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "mmusim setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
