#!/usr/bin/python3
"""test-check-emu.py - dualscd-check on the emulated USB CCID reader (TAP).

Usage: test-check-emu.py DUALSCD_CHECK USB_HOLDER BUILD_DIR

The reader is tests/ccid-emu/dualscd-ccid-emu (umockdev with a real ioctl
handler), so holders are real libusb programs: pcscd with libccid, a plain
libusb program that claims the interface (USB_HOLDER), a kernel driver the
emulator reports.  The emulator keeps the device node open itself and is
left out with --ignore-pid.  Without the emulator built, the test says so
and skips.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

CHECK, HOLDER, BUILD = sys.argv[1:4]
EMU = os.path.join(BUILD, "tests", "ccid-emu", "dualscd-ccid-emu")
VIDPID = "1050:0407"

results = []
tmp = tempfile.mkdtemp(prefix="test-check-emu-")
# Sanitizer builds: the umockdev preload comes before the ASan runtime,
# harmless here (it wraps libc calls only).
_opts = os.environ.get("ASAN_OPTIONS", "")
os.environ["ASAN_OPTIONS"] = (_opts + ":" if _opts else "") + "verify_asan_link_order=0"


def ok(cond, name, diag=""):
    results.append(bool(cond))
    print("%s %d - %s" % ("ok" if cond else "not ok", len(results), name))
    if not cond and diag:
        for line in str(diag).splitlines()[:40]:
            print("#   " + line)
    sys.stdout.flush()


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"export (\w+)=(.*)", line.strip())
            if m:
                env[m.group(1)] = m.group(2).strip("'\"")
    return env


class Emulator:
    """One dualscd-ccid-emu process with its testbed."""

    def __init__(self, name, *args):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.proc = subprocess.Popen([EMU, "--dir", self.dir, "--vid-pid", VIDPID] + list(args),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=open(os.path.join(self.dir, "emu.log"), "w"),
                                     text=True)
        line = self.proc.stdout.readline()
        self.ready = line.startswith("READY")
        self.env = read_env(os.path.join(self.dir, "env")) if self.ready else {}

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_json(emu, home, ignore=(), extra=None):
    env = dict(os.environ)
    env.update(emu.env)
    env.update(extra or {})
    env["PCSCLITE_CSOCK_NAME"] = env.get("PCSCLITE_CSOCK_NAME", os.path.join(tmp, "none"))
    args = [CHECK, "--json", "--homedir", home]
    for pid in ignore:
        args += ["--ignore-pid", str(pid)]
    p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=30)
    try:
        p.doc = json.loads(p.stdout)
    except ValueError:
        p.doc = {}
    return p


def home(name, conf=""):
    d = os.path.join(tmp, "home-" + name)
    os.makedirs(d, mode=0o700)
    with open(os.path.join(d, "scdaemon.conf"), "w") as f:
        f.write(conf)
    return d


def ids(doc):
    return [f["id"] for f in doc.get("findings", [])]


def case_free_and_holder():
    emu = Emulator("plain")
    ok(emu.ready, "emulator starts", open(os.path.join(emu.dir, "emu.log")).read())
    if not emu.ready:
        return
    try:
        h = home("free")
        p = run_json(emu, h, ignore=[emu.proc.pid])
        r = p.doc.get("readers", [])
        ok(p.returncode == 0 and len(r) == 1 and r[0]["vid"] + ":" + r[0]["pid"] == VIDPID
           and r[0]["holder"].endswith("is not held by any process"),
           "free emulated reader: listed, nobody holds it, exit 0", p.stdout + p.stderr)

        env = dict(os.environ, **emu.env)
        holder = subprocess.Popen([HOLDER, VIDPID], env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        line = holder.stdout.readline().strip()
        ok(line == "HOLDING", "the libusb holder claims the interface", line)
        p = run_json(emu, h, ignore=[emu.proc.pid])
        hs = p.doc.get("holders", [])
        ok(len(hs) == 1 and hs[0]["pid"] == holder.pid and hs[0]["program"] == "usb-holder"
           and hs[0]["kind"] == "other",
           "another libusb program holds it: named with its pid", p.stdout)
        r = p.doc.get("readers", [{}])
        ok(("is held by usb-holder pid %d (user root)" % holder.pid) in r[0].get("holder", ""),
           "the holder sentence names it", json.dumps(r))
        holder.stdin.close()
        holder.wait(timeout=10)
    finally:
        emu.stop()


def case_kernel_driver():
    emu = Emulator("kernel", "--kernel-driver", "pn533_usb")
    if not emu.ready:
        ok(False, "emulator with a kernel driver starts")
        return
    try:
        p = run_json(emu, home("kernel"), ignore=[emu.proc.pid])
        f = [x for x in p.doc.get("findings", []) if x["id"] == "kernel-driver"]
        ok(p.returncode == 1 and len(f) == 1 and "pn533_usb" in f[0]["message"]
           and "modprobe -r pn533_usb" in f[0]["fix"],
           "emulated kernel driver: named, with the modprobe fix", p.stdout + p.stderr)
    finally:
        emu.stop()


def start_pcscd(emu, name):
    """A private pcscd (own /run) that finds the emulated reader by udev."""
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "run"))
    conf = os.path.join(d, "reader.conf")
    open(conf, "w").close()
    env = dict(os.environ, **emu.env)
    p = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                          'mount --bind "$1" /run && exec pcscd -f -d -c "$2"', "sh",
                          os.path.join(d, "run"), conf],
                         env=env, stdin=subprocess.DEVNULL,
                         stdout=open(os.path.join(d, "pcscd.log"), "w"),
                         stderr=subprocess.STDOUT)
    sock = os.path.join(d, "run", "pcscd", "pcscd.comm")
    for _ in range(200):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    p.socket = sock
    p.log = os.path.join(d, "pcscd.log")
    return p


def stop(p):
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def wait_holder(emu, h, kind, extra, tries=100):
    for _ in range(tries):
        p = run_json(emu, h, ignore=[emu.proc.pid], extra=extra)
        if any(x.get("kind") == kind for x in p.doc.get("holders", [])):
            return p
        time.sleep(0.1)
    return p


def case_pcscd_holds():
    """(a) pcscd + libccid holds the reader, the card daemon is set for CCID."""
    emu = Emulator("a")
    if not emu.ready:
        ok(False, "emulator for the pcscd case starts")
        return
    pcscd = start_pcscd(emu, "pcscd-a")
    try:
        extra = {"PCSCLITE_CSOCK_NAME": pcscd.socket}
        h = home("a", conf="# mine\n")
        p = wait_holder(emu, h, "pcscd", extra)
        hs = p.doc.get("holders", [])
        f = [x for x in p.doc.get("findings", []) if x["id"] == "pcscd-holds-reader"]
        ok(p.returncode == 1 and len(hs) == 1 and hs[0]["pid"] == pcscd.pid
           and hs[0]["with_libccid"] and len(f) == 1
           and f[0]["message"].startswith("pcscd (pid %d) holds reader 1050:0407" % pcscd.pid),
           "(a) pcscd with libccid named as holder, disable-ccid finding",
           p.stdout + p.stderr + open(pcscd.log).read()[-2000:])
        pc = p.doc.get("pcsc", {})
        ok(pc.get("reachable") and pc.get("pid") == pcscd.pid and pc.get("with_libccid")
           and pc.get("readers") and pc["readers"][0]["card_present"],
           "(a) PC/SC: the pcscd behind the socket, its reader with the card",
           json.dumps(pc))
        env = dict(os.environ, **emu.env)
        env.update(extra)
        q = subprocess.run([CHECK, "--fix", "--yes", "--homedir", h, "--ignore-pid",
                            str(emu.proc.pid)], env=env, capture_output=True, text=True,
                           timeout=60)
        p = run_json(emu, h, ignore=[emu.proc.pid], extra=extra)
        ok(q.returncode == 0 and p.returncode == 0 and not p.doc.get("findings")
           and open(h + "/scdaemon.conf").read().startswith("# mine\n"),
           "(a) --fix applies disable-ccid; the next run reports no conflict",
           q.stdout + q.stderr + p.stdout)
    finally:
        stop(pcscd)
        emu.stop()


def case_scdaemon_holds():
    """(b) GnuPG's scdaemon (CCID driver) holds it, then pcscd starts."""
    emu = Emulator("b")
    if not emu.ready:
        ok(False, "emulator for the scdaemon case starts")
        return
    gh = home("b-gnupg", conf="")
    env = dict(os.environ, **emu.env)
    env["GNUPGHOME"] = gh
    pcscd = None
    try:
        r = subprocess.run(["gpg-connect-agent", "--homedir", gh, "SCD SERIALNO", "/bye"],
                           env=env, capture_output=True, text=True, timeout=60)
        ok("S SERIALNO" in r.stdout, "(b) GnuPG's scdaemon reads the card by CCID",
           r.stdout + r.stderr)
        pcscd = start_pcscd(emu, "pcscd-b")
        extra = {"PCSCLITE_CSOCK_NAME": pcscd.socket}
        p = wait_holder(emu, gh, "scdaemon", extra, tries=20)
        f = [x for x in p.doc.get("findings", []) if x["id"] == "card-daemon-holds-reader"]
        ok(p.returncode == 1 and len(f) == 1
           and f[0]["message"].startswith("GnuPG's scdaemon (pid ")
           and "so pcscd (pid %d) cannot claim it" % pcscd.pid in f[0]["message"],
           "(b) scdaemon named as holder, pcscd's failure explained", p.stdout)
        busy = False
        for _ in range(50):
            busy = "LIBUSB_ERROR_BUSY" in open(pcscd.log).read()
            if busy:
                break
            time.sleep(0.1)
        ok(busy, "(b) pcscd indeed failed to claim it (LIBUSB_ERROR_BUSY in its log)")
    finally:
        subprocess.run(["gpgconf", "--homedir", gh, "--kill", "gpg-agent"], env=env,
                       capture_output=True, timeout=30)
        if pcscd:
            stop(pcscd)
        emu.stop()


def main():
    if not os.path.exists(EMU):
        print("1..0 # SKIP %s is not built" % EMU)
        return 0
    try:
        case_free_and_holder()
        case_kernel_driver()
        case_pcscd_holds()
        case_scdaemon_holds()
    finally:
        subprocess.run(["rm", "-rf", tmp])
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
