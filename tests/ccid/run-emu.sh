#!/bin/bash
# run-emu.sh BUILD_DIR TEST_PROGRAM - run the CCID driver test once per
# scenario, each against a fresh emulated reader (dualscd-ccid-emu with the
# scenario's options), and merge the TAP streams into one.
set -uo pipefail

build=$(cd "${1:?usage: run-emu.sh BUILD_DIR TEST_PROGRAM}" && pwd)
prog=${2:?usage: run-emu.sh BUILD_DIR TEST_PROGRAM}
emu=${DUALSCD_CCID_EMU:-$build/tests/ccid-emu/dualscd-ccid-emu}
only=${DUALSCD_CCID_SCENARIOS:-apdu ext tpdu no-intr pinpad slots kdrv}

declare -A opts=(
  [apdu]="--mode apdu"
  [ext]="--mode ext"
  [tpdu]="--mode tpdu"
  [no-intr]="--mode apdu --no-intr"
  [pinpad]="--mode apdu --pinpad"
  [slots]="--mode apdu --slots 2"
  [kdrv]="--mode apdu --kernel-driver dualscd-test"
)

if [ ! -x "$emu" ]; then
  echo "1..0 # SKIP the emulated reader ($emu) is not built"
  exit 0
fi

# A sanitizer build must come before umockdev's preload library.
asan=$(ldd "$prog" 2>/dev/null | awk '/libasan|libclang_rt.asan/ { print $3; exit }')

n=0 failed=0
# Numbers the cases of one run after the previous ones, tagging them with
# the scenario; drops the run's own plan.
renumber() {
  local line rest
  while IFS= read -r line; do
    case $line in
      "ok "*|"not ok "*)
        n=$((n + 1))
        rest=${line#*ok [0-9]* - }
        case $line in
          "not ok"*) echo "not ok $n - [$1] $rest"; failed=1 ;;
          *) echo "ok $n - [$1] $rest" ;;
        esac ;;
      1..*) ;;
      *) echo "$line" ;;
    esac
  done
}

for s in $only; do
  dir=$(mktemp -d /tmp/dualscd-ccid.XXXXXX)
  # shellcheck disable=SC2086
  "$emu" --dir "$dir" ${opts[$s]} >"$dir/emu.out" 2>"$dir/emu.err" &
  pid=$!
  for _ in $(seq 100); do
    grep -q READY "$dir/emu.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q READY "$dir/emu.out" 2>/dev/null; then
    n=$((n + 1)) failed=1
    echo "not ok $n - [$s] the emulated reader starts"
    sed 's/^/# emu: /' "$dir/emu.err" | tail -n 20
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    continue
  fi
  # The preload and testbed only for the test program, not for this shell.
  out=$( (
    set -a
    # shellcheck disable=SC1091
    . "$dir/env"
    [ -n "$asan" ] && LD_PRELOAD="$asan${LD_PRELOAD:+ $LD_PRELOAD}"
    DUALSCD_EMU_DIR=$dir DUALSCD_TEST_LOG=$dir/driver.log timeout 240 "$prog" "$s"
    echo "# exit status $?"
  ) 2>&1)
  before=$n
  renumber "$s" <<<"$out"
  if [ "$n" -eq "$before" ]; then
    n=$((n + 1)) failed=1
    echo "not ok $n - [$s] the test program runs"
    sed 's/^/# /' <<<"$out" | tail -n 20
  fi
  if grep -q "^not ok\|exit status [1-9]" <<<"$out"; then
    failed=1
    tail -n 30 "$dir/driver.log" 2>/dev/null | sed 's/^/# driver.log: /'
    echo "# kept $dir"
  fi
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  [ "$failed" -eq 0 ] && rm -rf "$dir"
done
echo "1..$n"
exit "$failed"
