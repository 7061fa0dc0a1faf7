#!/bin/bash
# chroot.sh - a cached Debian 13 (trixie) chroot with GnuPG 2.4 for the tests.
#
# Usage: chroot.sh create
#        chroot.sh enter WORK_DIR COMMAND [ARG...]
#        chroot.sh path
#
# create: makes sure a complete trixie chroot with the packages below
#   exists in $DUALSCD_TRIXIE_DIR (default /var/tmp/dualscd-trixie) and
#   prints its path.  A chroot is complete when its stamp file holds the
#   current package list; anything else is rebuilt.  It is built in DIR.new
#   and renamed only when apt has finished, so an interrupted run never
#   leaves a half chroot that looks complete.  Concurrent callers serialise
#   on a lock file next to it.
# enter: runs COMMAND inside the chroot, in a private mount namespace, with
#   /proc, /sys and /dev bound, the source tree bound read-only on /src and
#   WORK_DIR bound read-write on the same path as outside (so paths printed
#   inside are valid outside too).  The mounts vanish with the namespace.
#   Network and PID namespaces stay the host's.
# path: prints the chroot directory.
#
# Needs root and network access to Debian's archive for create.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
dir=${DUALSCD_TRIXIE_DIR:-/var/tmp/dualscd-trixie}
mirror=${DUALSCD_TRIXIE_MIRROR:-http://deb.debian.org/debian}

# Installed with apt inside: debootstrap's own resolver ignores virtual
# packages, so a long --include list fails.  Changing this list rebuilds
# the cached chroot.
packages="gnupg gpg-agent scdaemon gpgconf pcscd vsmartcard-vpcd opensc
  build-essential meson ninja-build pkg-config python3 python3-pyscard
  libassuan-dev libgcrypt20-dev libgpg-error-dev libusb-1.0-0-dev
  libpcsclite-dev libumockdev-dev openssh-client procps util-linux mount"
stamp_text=$(echo "trixie $packages" | tr -s ' \n' ' ')

die() {
  echo "chroot.sh: $*" >&2
  exit 1
}

complete() {
  [ -f "$dir/.dualscd-stamp" ] &&
    [ "$(cat "$dir/.dualscd-stamp")" = "$stamp_text" ]
}

# Runs apt inside the chroot being built; policy-rc.d keeps package
# scripts from starting daemons (pcscd) on the host's PID namespace.
build() {
  local new=$1
  rm -rf "$new"
  debootstrap --variant=minbase trixie "$new" "$mirror" >"$new.log" 2>&1 ||
    die "debootstrap failed; see $new.log"
  printf '#!/bin/sh\nexit 101\n' >"$new/usr/sbin/policy-rc.d"
  chmod 755 "$new/usr/sbin/policy-rc.d"
  # shellcheck disable=SC2086 # the package list splits on purpose
  in_chroot "$new" "" env DEBIAN_FRONTEND=noninteractive \
    sh -c 'apt-get update -qq && apt-get install -y -qq \
      --no-install-recommends "$@"' sh $packages >>"$new.log" 2>&1 ||
    die "apt-get inside the chroot failed; see $new.log"
  in_chroot "$new" "" apt-get clean >>"$new.log" 2>&1 || true
  echo "$stamp_text" >"$new/.dualscd-stamp"
}

create() {
  [ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"
  mkdir -p "$(dirname "$dir")"
  exec 9>"$dir.lock"
  flock 9
  if ! complete; then
    command -v debootstrap >/dev/null || die "no debootstrap (tests/deps.sh)"
    build "$dir.new"
    rm -rf "$dir.old"
    [ ! -e "$dir" ] || mv "$dir" "$dir.old"
    mv "$dir.new" "$dir"
    mv "$dir.new.log" "$dir.log"
    rm -rf "$dir.old"
  fi
  echo "$dir"
}

# in_chroot ROOT WORK_DIR COMMAND...: the mounts are made inside a new
# mount namespace, so nothing is left mounted when COMMAND exits.
in_chroot() {
  local root=$1 work=$2
  shift 2
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare --mount --propagation private sh -c '
    set -e
    root=$1 src=$2 work=$3
    shift 3
    # The root a mount point of its own: unshare --propagation inside (the
    # test world starts pcscd that way) fails with EINVAL otherwise.
    mount --bind "$root" "$root"
    mount --rbind /proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --rbind /dev "$root/dev"
    mkdir -p "$root/src" "$root/run" "$root/tmp"
    mount -t tmpfs -o mode=755 tmpfs "$root/run"
    mount --bind "$src" "$root/src"
    mount -o remount,bind,ro "$root/src"
    if [ -n "$work" ]; then
      mkdir -p "$root$work"
      mount --bind "$work" "$root$work"
    fi
    exec chroot "$root" "$@"
  ' sh "$root" "$src" "$work" "$@"
}

case ${1:-} in
  create) create ;;
  path) echo "$dir" ;;
  enter)
    [ $# -ge 3 ] || die "usage: chroot.sh enter WORK_DIR COMMAND [ARG...]"
    complete || die "no complete chroot in $dir (run chroot.sh create)"
    work=$(cd "$2" && pwd)
    shift 2
    in_chroot "$dir" "$work" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
    ;;
  *) die "usage: chroot.sh create | enter WORK_DIR COMMAND... | path" ;;
esac
