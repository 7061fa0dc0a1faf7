#!/bin/sh
# demo.sh - install what is needed, build, and run the main job.
# For now the main job is the ATR decoder of dualscd-check on two published
# ATRs; it becomes the software-card demo through gpg once the agent exists.
set -eu
cd "$(dirname "$0")/.."

sh tests/deps.sh
[ -f build/build.ninja ] || meson setup build
meson compile -C build

for atr in \
  "3B 94 18 81 B1 80 7D 1F 03 19 C8 00 50 DC" \
  "3B DE 18 FF 81 F1 FE 43 00 3F 07 83 44 45 53 46 69 72 65 38 20 53 41 4D 2D 58 17"
do
  echo "\$ dualscd-check atr $atr"
  ./build/agent/dualscd-check atr "$atr"
  echo
done
