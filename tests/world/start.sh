#!/bin/bash
# start.sh - start a private PC/SC test world with the software OpenPGP card.
#
# Usage: start.sh [--scdaemon PATH] [--card-version V] [--latency-ms N]
#                 [--card-state FILE] [--card-arg ARG]...
#                 [--ccid MODE [--ccid-opts "OPTS"] [--with-pcscd]]
#                 BUILD_DIR WORLD_DIR
#
# With --ccid MODE (apdu, ext or tpdu) the card sits instead in an emulated
# USB CCID reader, BUILD_DIR/tests/ccid-emu/dualscd-ccid-emu --mode MODE
# OPTS (control socket WORLD_DIR/emu/control), and the scdaemon runs through
# WORLD_DIR/scd-wrapper, which loads the emulator's environment (umockdev
# preload) and execs it, so that it stays gpg-agent's direct child.  No
# pcscd runs and scdaemon.conf has no disable-ccid, unless --with-pcscd: then
# a private pcscd (also preloaded, started before the agent) holds the
# reader and scdaemon.conf says disable-ccid.
#
# In WORLD_DIR (created, must be empty or absent) it starts:
#   - a private pcscd in its own mount namespace (WORLD_DIR/run bound on
#     /run, so the system's pcscd is never touched), reading only a private
#     reader.conf with one vpcd reader on a free TCP port;
#   - BUILD_DIR/tests/vcard/dualscd-vcard against that port, with its state
#     in WORLD_DIR/card.state and its APDU log in WORLD_DIR/apdu.log;
# waits until the reader shows the card, prepares a private GNUPGHOME that
# uses the test pinentry and the given scdaemon (default GnuPG's own), and
# prints the environment to export ("export X=..." lines, also kept in
# WORLD_DIR/env).  Every process it starts is listed in WORLD_DIR/pids;
# stop.sh WORLD_DIR stops exactly those.  Needs root (mount namespace).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
scdaemon=/usr/lib/gnupg/scdaemon
card_args=()
card_state=  # a saved card.state to start the card from (default: factory)
ccid_mode=   # --ccid: the emulated USB reader instead of vpcd
ccid_opts=
with_pcscd=0
card_version=
card_extra=0

die() {
  echo "start.sh: $*" >&2
  exit 1
}

while [ $# -gt 2 ]; do
  case $1 in
    --scdaemon) scdaemon=$2; shift 2 ;;
    --card-version) card_args+=(--version "$2"); card_version=$2; shift 2 ;;
    --latency-ms) card_args+=(--latency-ms "$2"); card_extra=1; shift 2 ;;
    --card-state) card_state=$2; shift 2 ;;
    --card-arg) card_args+=("$2"); card_extra=1; shift 2 ;;  # e.g. --no-private-dos
    --ccid) ccid_mode=$2; shift 2 ;;
    --ccid-opts) ccid_opts=$2; shift 2 ;;
    --with-pcscd) with_pcscd=1; shift ;;
    *) die "unknown option $1" ;;
  esac
done
[ $# -eq 2 ] || die "usage: start.sh [options] BUILD_DIR WORLD_DIR"
build=$(cd "$1" && pwd) || die "no build directory $1"
world=$2
vcard=$build/tests/vcard/dualscd-vcard
vpcd_driver=/usr/lib/pcsc/drivers/serial/libifdvpcd.so

# Fail loudly, never skip: a world that cannot start is a failed test.
[ "$(id -u)" -eq 0 ] || die "needs root (private pcscd in a mount namespace)"
for tool in unshare mount pcscd gpgconf /usr/bin/python3; do
  command -v "$tool" >/dev/null || die "missing $tool (run tests/deps.sh)"
done
[ -x "$vcard" ] || die "no $vcard (build first)"
[ -f "$vpcd_driver" ] || die "no vpcd driver $vpcd_driver (vsmartcard-vpcd)"
[ -x "$scdaemon" ] || die "no scdaemon $scdaemon"

mkdir -p "$world"
world=$(cd "$world" && pwd)
[ -z "$(ls -A "$world")" ] || die "$world is not empty"
mkdir -m 700 "$world/run" "$world/gnupg"
: >"$world/pids"

# A record of every process started, so stop.sh kills nothing else:
# "NAME PID" lines.
record() { echo "$1 $2" >>"$world/pids"; }

vpcd_world() {
# vpcd listens itself, on PORT for its first slot and PORT+1 for its second;
# two ports the kernel just handed out side by side and released are free
# with high probability (the card's connect would fail loudly if not).
port=$(/usr/bin/python3 -c 'import socket
for _ in range(100):
    a, b = socket.socket(), socket.socket()
    a.bind(("127.0.0.1", 0))
    try:
        b.bind(("127.0.0.1", a.getsockname()[1] + 1))
        print(a.getsockname()[1])
        break
    except OSError:
        pass
    finally:
        a.close(); b.close()')
[ -n "$port" ] || die "no two adjacent free TCP ports"

cat >"$world/reader.conf" <<EOF
FRIENDLYNAME "dualscd test vpcd"
DEVICENAME /dev/null:0x$(printf '%X' "$port")
LIBPATH $vpcd_driver
EOF

# pcscd always binds /run/pcscd/pcscd.comm: give it a /run of its own.
# unshare and sh exec, so the PID recorded is pcscd's.
# shellcheck disable=SC2016 # $1 and $@ expand in the inner sh
unshare -m --propagation private sh -c \
  'mount --bind "$1" /run && shift && exec pcscd -f -d "$@"' \
  sh "$world/run" -c "$world/reader.conf" "${pcscd_opts[@]}" \
  </dev/null >"$world/pcscd.log" 2>&1 &
record pcscd $!
socket=$world/run/pcscd/pcscd.comm
for _ in $(seq 100); do
  [ -S "$socket" ] && break
  kill -0 "$(awk '$1 == "pcscd" { print $2 }' "$world/pids")" 2>/dev/null ||
    die "pcscd exited; see $world/pcscd.log"
  sleep 0.1
done
[ -S "$socket" ] || die "pcscd socket $socket did not appear"

if [ -n "$card_state" ]; then
  install -m 600 "$card_state" "$world/card.state" || die "cannot copy $card_state"
fi

# The card; a subshell waits for it and keeps its exit status, so stop.sh
# can check that it left cleanly (status 0, sanitizers quiet).
(
  "$vcard" --vpcd "127.0.0.1:$port" --state "$world/card.state" \
    --apdu-log "$world/apdu.log" "${card_args[@]}" \
    </dev/null >"$world/vcard.log" 2>&1 &
  echo "$!" >"$world/vcard.pid"
  wait "$!" && rc=0 || rc=$?
  echo "$rc" >"$world/vcard.status"
) </dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do
  [ -s "$world/vcard.pid" ] && break
  sleep 0.05
done
record vcard "$(cat "$world/vcard.pid")"

export PCSCLITE_CSOCK_NAME=$socket
/usr/bin/python3 "$here/probe.py" --wait 15 >"$world/probe.out" ||
  die "no card in the reader; see $world/vcard.log and $world/pcscd.log"
}

# The card in dualscd-ccid-emu's emulated USB reader; with --with-pcscd a
# private pcscd (preloaded like the scdaemon) holds that reader.
ccid_world() {
  local emu=$build/tests/ccid-emu/dualscd-ccid-emu emu_opts=()
  [ -x "$emu" ] || die "no $emu (build first)"
  [ "$card_extra" -eq 0 ] || die "--latency-ms and --card-arg are not supported with --ccid"
  [ -z "$card_version" ] || emu_opts+=(--card-version "$card_version")
  # shellcheck disable=SC2206 # word splitting of --ccid-opts is wanted
  emu_opts+=($ccid_opts)
  (
    "$emu" --dir "$world/emu" --mode "$ccid_mode" --card-state "$world/card.state" \
      --apdu-log "$world/apdu.log" "${emu_opts[@]}" \
      </dev/null >"$world/emu.log" 2>&1 &
    echo "$!" >"$world/emu.pid"
    wait "$!" && rc=0 || rc=$?
    echo "$rc" >"$world/emu.status"
  ) </dev/null >/dev/null 2>&1 &
  for _ in $(seq 100); do
    grep -q '^READY' "$world/emu.log" 2>/dev/null && break
    [ -s "$world/emu.status" ] && break
    sleep 0.05
  done
  [ -s "$world/emu.pid" ] && record ccid-emu "$(cat "$world/emu.pid")"
  grep -q '^READY' "$world/emu.log" || die "the emulator did not start; see $world/emu.log"
  # The emulator keeps the device node open: dualscd must not name it as
  # a holder of the reader.
  echo "export DUALSCD_IGNORE_PIDS=$(cat "$world/emu.pid")" >>"$world/emu/env"
  # Sanitizer builds: the umockdev preload comes before ASan's runtime in
  # the preloaded processes, which ASan refuses unless told not to check.
  echo "export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    >>"$world/emu/env"
  emu_control=$world/emu/control
  emu_ctl() { /usr/bin/python3 "$here/../ccid-emu/emu-ctl.py" "$emu_control" "$@"; }
  world_atr=$(emu_ctl atr 1 0 | sed -n 's/^ok //p')
  world_reader="dualscd emulated CCID reader"
  [ "$with_pcscd" -eq 1 ] || return 0

  mkdir -m 700 "$world/reader.conf.d"
  # shellcheck disable=SC2016 # $1 and $@ expand in the inner sh
  unshare -m --propagation private sh -c \
    'mount --bind "$1" /run && . "$2" && shift 2 && exec pcscd -f -d "$@"' \
    sh "$world/run" "$world/emu/env" -c "$world/reader.conf.d" "${pcscd_opts[@]}" \
    </dev/null >"$world/pcscd.log" 2>&1 &
  record pcscd $!
  socket=$world/run/pcscd/pcscd.comm
  for _ in $(seq 100); do
    [ -S "$socket" ] && break
    sleep 0.1
  done
  [ -S "$socket" ] || die "pcscd socket $socket did not appear; see $world/pcscd.log"
  export PCSCLITE_CSOCK_NAME=$socket
  /usr/bin/python3 "$here/probe.py" --wait 15 >"$world/probe.out" ||
    die "no card in the emulated reader; see $world/emu.log and $world/pcscd.log"
  world_reader=$(sed -n 's/^READER //p' "$world/probe.out")
}

# pcsc-lite 2.x built with polkit (Debian 13) refuses every client unless
# told not to ask polkit; 1.9.9 (Debian 12) has no such option.
pcscd_opts=()
pcscd_help=$(pcscd --help 2>&1 || true)
if [[ $pcscd_help == *--disable-polkit* ]]; then
  pcscd_opts+=(--disable-polkit)
fi

socket=
port=
if [ -n "$ccid_mode" ]; then
  case $ccid_mode in
    apdu | ext | tpdu) ;;
    *) die "--ccid MODE must be apdu, ext or tpdu" ;;
  esac
  if [ -n "$card_state" ]; then
    install -m 600 "$card_state" "$world/card.state" || die "cannot copy $card_state"
  fi
  ccid_world
else
  vpcd_world
  world_atr=$(awk '$1 == "ATR" { print $2 }' "$world/probe.out")
  world_reader=$(sed -n 's/^READER //p' "$world/probe.out")
fi

# GnuPG: private home, test pinentry, the chosen scdaemon on PC/SC only.
cat >"$world/pinentry" <<EOF
#!/bin/sh
exec /usr/bin/python3 "$here/pinentry-test" --world "$world" "\$@"
EOF
chmod 755 "$world/pinentry"
cat >"$world/pins" <<EOF
user=123456
admin=12345678
EOF
scd_program=$scdaemon
if [ -n "$ccid_mode" ]; then
  # The scdaemon must be gpg-agent's own child and see the emulated bus.
  scd_program=$world/scd-wrapper
  {
    echo '#!/bin/sh'
    echo ". '$world/emu/env'"
    [ -z "$socket" ] || echo "export PCSCLITE_CSOCK_NAME='$socket'"
    echo "exec '$scdaemon' \"\$@\""
  } >"$scd_program"
  chmod 755 "$scd_program"
fi
cat >"$world/gnupg/gpg-agent.conf" <<EOF
allow-loopback-pinentry
pinentry-program $world/pinentry
scdaemon-program $scd_program
log-file $world/gpg-agent.log
enable-ssh-support
EOF
disable_ccid=disable-ccid
if [ -n "$ccid_mode" ] && [ -z "$socket" ]; then
  disable_ccid=  # the scdaemon's own CCID driver reaches the reader
fi
cat >"$world/gnupg/scdaemon.conf" <<EOF
$disable_ccid
log-file $world/scdaemon.log
debug-level basic
EOF

{
  [ -z "$socket" ] || echo "export PCSCLITE_CSOCK_NAME=$socket"
  if [ -n "$ccid_mode" ]; then
    echo "export DUALSCD_WORLD_EMU_CONTROL=$world/emu/control"
    echo "export DUALSCD_WORLD_EMU_ENV=$world/emu/env"
  fi
} >"$world/env"
cat >>"$world/env" <<EOF
export GNUPGHOME=$world/gnupg
export DUALSCD_WORLD=$world
export DUALSCD_WORLD_PORT=$port
export DUALSCD_WORLD_ATR=$world_atr
export DUALSCD_WORLD_READER='$world_reader'
export DUALSCD_WORLD_APDU_LOG=$world/apdu.log
export DUALSCD_WORLD_PINS=$world/pins
export DUALSCD_WORLD_PINENTRY_LOG=$world/pinentry.log
EOF
cat "$world/env"
