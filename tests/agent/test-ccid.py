#!/usr/bin/python3
# test-ccid.py BUILD_DIR [--idle] - dualscd's internal CCID driver and its
# claim conflicts, through the real gpg, gpg-agent and pcscd + libccid, on
# the emulated USB reader (tests/ccid-emu, started by tests/world/start.sh
# --ccid).
#
# Steps (one TAP line each):
#   - gpg --card-status over the CCID driver; GETINFO reader_list names the
#     backend; an APDU costs exactly one bulk-out and one bulk-in transfer
#     (the emulator counts them, the card logs the APDUs);
#   - the card removed and inserted, the reader unplugged and replugged:
#     a clean error, then it works again, with the same daemon;
#   - pcscd holds the reader and dualscd is set up for CCID: dualscd uses
#     the reader through pcscd and its log names pcscd and its pid;
#   - another libusb program holds the reader: gpg says "Device or resource
#     busy" (never "No such device"), and a direct session gets a
#     READER_BUSY status line and an ERR description naming the program;
#   - dualscd holds the reader, pcscd starts and cannot claim it; after
#     card-timeout dualscd lets go, pcscd (restarted) takes it, and dualscd
#     goes on through pcscd;
#   - a kernel driver holds the reader: EBUSY naming the driver;
#   - disable-ccid: dualscd opens no USB device node (strace);
#   - a pinpad reader: VERIFY typed on the reader, with the agent told to
#     show and take down the pinpad prompt; disable-pinpad falls back to
#     NEEDPIN.
# With --idle: an idle dualscd holding the USB reader with a card makes
# fewer than 10 context switches in 120 s (summed over its threads).
import os
import re
import signal
import socket
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "world"))
import testworld  # noqa: E402
IDLE_SECONDS = 120
IDLE_MAX_SWITCHES = 10


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


def wait_for(pred, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise Failed("timed out after %d s waiting for %s" % (seconds, what))


class World(testworld.World):
    """A world started by start.sh --ccid, with dualscd as the scdaemon."""

    def __init__(self, build, opts, conf=None):
        self.dualscd = os.path.join(build, "agent", "dualscd")
        try:
            super().__init__(build, ["--scdaemon", self.dualscd] + opts,
                             prefix="dualscd-ccid.")
        except testworld.WorldFailed as e:
            raise Failed(str(e))
        self.emu_env = dict(self.env)
        with open(self.env["DUALSCD_WORLD_EMU_ENV"]) as f:
            testworld.read_exports(f.read(), self.emu_env)
        self.log = self.path("dualscd.log")
        if conf is not None:
            self.set_conf(conf)

    def set_conf(self, lines):
        with open(os.path.join(self.env["GNUPGHOME"], "scdaemon.conf"), "w") as f:
            f.write("log-file %s\ndebug-level basic\n%s" % (self.log, lines))

    def emu(self, *words):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(20)
        s.connect(self.env["DUALSCD_WORLD_EMU_CONTROL"])
        s.sendall((" ".join(str(w) for w in words) + "\n").encode())
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        s.close()
        reply = buf.decode(errors="replace").split("\n")[0]
        check(reply.startswith("ok"), "emulator: %s: %s" % (" ".join(map(str, words)), reply))
        return dict(kv.split("=", 1) for kv in reply.split()[1:] if "=" in kv)

    def gpg(self, *args):
        return subprocess.run(["gpg", "--no-tty", "--with-colons"] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=self.env, timeout=60, text=True)

    def card_status_ok(self, what):
        out = self.gpg("--card-status")
        check(out.returncode == 0 and re.search(r"^serial:[0-9A-F]{8}:", out.stdout, re.M),
              "%s: gpg --card-status failed: %s" % (what, out.stderr[-600:]))

    def scd(self, line):
        """One SCD command through gpg-agent; its output."""
        out = subprocess.run(["gpg-connect-agent", "--decode", "SCD " + line, "/bye"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=self.env, timeout=60)
        return out.stdout.decode(errors="replace")

    def apdus(self):
        with open(self.env["DUALSCD_WORLD_APDU_LOG"], errors="replace") as f:
            return [x for x in f if x.startswith("vcard:")]

    def daemon_pid(self):
        out = self.scd("GETINFO pid")
        m = re.search(r"^D (\d+)", out, re.M)
        check(m, "no pid from the daemon: %r" % out)
        return int(m.group(1))

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def pids(self, name):
        with open(self.path("pids")) as f:
            return [int(p) for n, p in (line.split()[:2] for line in f if line.strip())
                    if n == name]

    def record(self, name, pid):
        with open(self.path("pids"), "a") as f:
            f.write("%s %d\n" % (name, pid))

    def start_pcscd(self):
        """A private pcscd under the emulator's preload, as start.sh
        --with-pcscd starts it; it claims the reader if it can."""
        os.makedirs(self.path("run"), mode=0o700, exist_ok=True)
        os.makedirs(self.path("reader.conf.d"), mode=0o700, exist_ok=True)
        opts = []
        helptext = subprocess.run(["pcscd", "--help"], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True).stdout
        if "--disable-polkit" in helptext:
            opts.append("--disable-polkit")
        p = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             'mount --bind "$1" /run && . "$2" && shift 2 && exec pcscd -f -d "$@"',
             "sh", self.path("run"), self.env["DUALSCD_WORLD_EMU_ENV"],
             "-c", self.path("reader.conf.d")] + opts,
            stdin=subprocess.DEVNULL, stdout=open(self.path("pcscd.log"), "ab"),
            stderr=subprocess.STDOUT)
        self.record("pcscd", p.pid)
        sock = self.path("run/pcscd/pcscd.comm")
        wait_for(lambda: os.path.exists(sock), 10, "pcscd's socket")
        return p



def use_world_pcscd(w):
    """The world's scd-wrapper exports the world's pcscd socket, whether or
    not pcscd runs yet (dualscd waits for it to appear)."""
    wrapper = w.path("scd-wrapper")
    with open(wrapper) as f:
        text = f.read()
    sock = w.path("run/pcscd/pcscd.comm")
    if "PCSCLITE_CSOCK_NAME" not in text:
        text = text.replace("exec ", "export PCSCLITE_CSOCK_NAME='%s'\nexec " % sock, 1)
        with open(wrapper, "w") as f:
            f.write(text)
    w.env["PCSCLITE_CSOCK_NAME"] = sock


class Assuan:
    """A direct dualscd --server session (under the emulator's preload)."""

    def __init__(self, w, conf_lines):
        conf = w.path("direct.conf")
        with open(conf, "w") as f:
            f.write(conf_lines)
        self.p = subprocess.Popen([w.dualscd, "--server", "--options", conf],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, env=w.emu_env)
        self.greeting = self.p.stdout.readline()

    def cmd(self, line, answer=None):
        """(status lines, data, the ERR line or None); inquiries are
        collected in self.inquiries and answered with ANSWER(keyword)
        (bytes, or None for an empty answer)."""
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()
        status, data = [], []
        self.inquiries = []
        while True:
            raw = self.p.stdout.readline().decode(errors="replace").rstrip("\n")
            check(raw, "daemon closed the connection after %r" % line)
            if raw.startswith("INQUIRE "):
                self.inquiries.append(raw[8:])
                value = answer(raw[8:]) if answer else None
                self.p.stdin.write((b"D " + value + b"\n" if value else b"") + b"END\n")
                self.p.stdin.flush()
            elif raw.startswith("S "):
                status.append(raw[2:])
            elif raw.startswith("D "):
                data.append(raw[2:])
            elif raw.startswith("OK"):
                return status, data, None
            elif raw.startswith("ERR"):
                return status, data, raw

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()
            self.p.wait()


# --- steps ------------------------------------------------------------------


def card_status_ccid(w):
    w.card_status_ok("cold")
    readers = w.scd("GETINFO reader_list")
    check(re.search(r"^D 1050:0407:\S+\tccid$", readers, re.M),
          "reader_list does not show the CCID reader: %r" % readers)
    return readers.splitlines()[0][2:].replace("\t", " ")


def one_bulk_pair_per_apdu(w):
    before = len(w.apdus())
    w.emu("stats-reset", 1)
    out = w.scd("RANDOM 16")
    check(re.search(r"^D ", out, re.M), "RANDOM gave no data: %r" % out)
    st = w.emu("stats", 1)
    n = len(w.apdus()) - before
    check(n == 1, "RANDOM cost %d APDUs" % n)
    check(st["bulk_out"] == "1" and st["bulk_in"] == "1",
          "one APDU cost bulk_out=%s bulk_in=%s (want 1 and 1); stats %s"
          % (st["bulk_out"], st["bulk_in"], st))
    return "bulk_out=%s bulk_in=%s intr=%s control=%s" % (
        st["bulk_out"], st["bulk_in"], st.get("intr"), st.get("control"))


def removal_and_unplug(w):
    pid = w.daemon_pid()
    w.emu("remove", 1, 0)
    out = w.gpg("--card-status")
    check(out.returncode != 0, "card-status succeeded without a card")
    removed_msg = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else ""
    w.emu("insert", 1, 0)
    wait_for(lambda: w.gpg("--card-status").returncode == 0, 15, "the card to work again")
    w.emu("unplug", 1)
    out = w.gpg("--card-status")
    check(out.returncode != 0, "card-status succeeded without a reader")
    check("No such device" in out.stderr or "Card removed" in out.stderr
          or "removed" in out.stderr, "unexpected error without reader: %s" % out.stderr)
    w.emu("replug", 1)
    wait_for(lambda: w.gpg("--card-status").returncode == 0, 15, "the replugged reader")
    check(w.daemon_pid() == pid, "the daemon was restarted meanwhile")
    return "without card: %r" % removed_msg


def pcscd_holds_reader(build):
    """Issue 6 (a): pcscd holds it, dualscd is set up for CCID."""
    w = World(build, ["--ccid", "apdu", "--with-pcscd"], conf="")
    try:
        w.card_status_ok("with pcscd holding the reader")
        pcscd = w.pids("pcscd")[-1]
        log = w.log_text()
        check(re.search(r"held by pcscd pid %d\b" % pcscd, log),
              "the log does not name pcscd pid %d:\n%s" % (pcscd, log[-1500:]))
        check("using it through pcscd" in log and "disable-ccid" in log,
              "the log does not say it falls back to pcscd:\n" + log[-1500:])
        readers = w.scd("GETINFO reader_list")
        check(re.search(r"\tccid\t.*pcscd", readers), "reader_list: %r" % readers)
        line = next(x for x in log.splitlines() if "using it through pcscd" in x)
        return line.split("] ", 1)[-1]
    finally:
        w.stop()


def other_program_holds_reader(build):
    """Issue 6 (c): a libusb program claims the reader first."""
    w = World(build, ["--ccid", "apdu"], conf="")
    holder = None
    try:
        holder = subprocess.Popen([os.path.join(build, "tests", "check", "usb-holder"),
                                   "1050:0407"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, env=w.emu_env)
        line = holder.stdout.readline().decode().strip()
        check(line == "HOLDING", "usb-holder: %r" % line)
        out = w.gpg("--card-status")
        check(out.returncode != 0, "card-status succeeded while another program holds it")
        check("Device or resource busy" in out.stderr,
              "gpg did not say busy: %s" % out.stderr[-400:])
        check("No such device" not in out.stderr, "gpg said No such device")
        a = Assuan(w, "")
        try:
            status, _, err = a.cmd("SERIALNO")
        finally:
            a.close()
        check(err and "held by" in err, "ERR line: %r" % err)
        check(re.search(r"usb-holder pid %d\b" % holder.pid, err),
              "the ERR description does not name usb-holder pid %d: %r" % (holder.pid, err))
        busy = [s for s in status if s.startswith("READER_BUSY ")]
        check(busy and "usb-holder" in busy[0], "no READER_BUSY status: %r" % status)
        return err
    finally:
        if holder:
            holder.stdin.close()
            holder.wait(10)
        w.stop()


def dualscd_holds_then_releases(build):
    """Issue 6 (b): dualscd holds the reader when pcscd starts; after
    card-timeout it lets go and pcscd can take it."""
    w = World(build, ["--ccid", "apdu"], conf="card-timeout 3\n")
    try:
        use_world_pcscd(w)
        w.card_status_ok("dualscd on CCID")
        daemon = w.daemon_pid()
        p = w.start_pcscd()
        wait_for(lambda: "LIBUSB_ERROR_BUSY" in open(w.path("pcscd.log"),
                                                      errors="replace").read(),
                 10, "pcscd to fail to claim the reader")
        wait_for(lambda: "releasing reader" in w.log_text(), 10,
                 "dualscd to release the reader after card-timeout")
        p.terminate()
        p.wait(10)
        w.start_pcscd()
        wait_for(lambda: w.gpg("--card-status").returncode == 0, 20,
                 "card-status through the restarted pcscd")
        check(w.daemon_pid() == daemon, "dualscd was restarted")
        log = w.log_text()
        check("using it through pcscd" in log, "no fallback to pcscd:\n" + log[-1500:])
        return "released after card-timeout 3 s; pcscd took the reader"
    finally:
        w.stop()


def kernel_driver_holds_reader(build):
    """Issue 6 (d): a kernel driver is bound to the interface: EBUSY, and
    the description names the driver."""
    w = World(build, ["--ccid", "apdu", "--ccid-opts", "--kernel-driver pn533_usb"],
              conf="")
    try:
        out = w.gpg("--card-status")
        check(out.returncode != 0 and "Device or resource busy" in out.stderr,
              "gpg with a kernel driver holding the reader: %s" % out.stderr[-400:])
        a = Assuan(w, "")
        try:
            _, _, err = a.cmd("SERIALNO")
        finally:
            a.close()
        check(err and "kernel driver pn533_usb" in err, "ERR line: %r" % err)
        return err
    finally:
        w.stop()


def pinpad(build):
    """A reader with a pinpad: CHECKPIN asks the agent to show the pinpad
    prompt (POPUPPINPADPROMPT), the PIN is typed on the reader (the
    emulator types it), the prompt is taken down (DISMISSPINPADPROMPT);
    a wrong PIN typed there fails; with disable-pinpad the PIN is asked
    for through NEEDPIN instead."""
    w = World(build, ["--ccid", "apdu", "--ccid-opts", "--pinpad"], conf="")
    try:
        def needpin(keyword):
            return b"123456" + b"%00" * 84 if keyword.startswith("NEEDPIN") else None

        notes = []
        for conf, typed, want in (("", "123456", None), ("", "654321", "Bad PIN"),
                                  ("disable-pinpad\n", "654321", None)):
            w.emu("pinpad-pin", typed)
            a = Assuan(w, conf)
            try:
                status, _, err = a.cmd("SERIALNO")
                check(err is None, "SERIALNO: %s" % err)
                serial = next(x.split()[1] for x in status if x.startswith("SERIALNO "))
                _, _, err = a.cmd("CHECKPIN " + serial, answer=needpin)
                kinds = [q.split()[0] for q in a.inquiries]
            finally:
                a.close()
            if conf:
                check(kinds == ["NEEDPIN"], "with disable-pinpad: inquiries %s" % kinds)
            else:
                check(kinds == ["POPUPPINPADPROMPT", "DISMISSPINPADPROMPT"],
                      "inquiries %s" % kinds)
            if want:
                check(err and want in err, "a wrong PIN on the pinpad: %r" % err)
            else:
                check(err is None, "CHECKPIN (%s): %s" % (conf.strip() or "pinpad", err))
            notes.append("%s %s" % ("/".join(kinds), err.split(" ", 2)[-1] if err else "OK"))
        return "; ".join(notes)
    finally:
        w.stop()


def disable_ccid_no_usb(build):
    """Issue 6 (e): with disable-ccid no USB device node is opened."""
    w = World(build, ["--ccid", "apdu"], conf="disable-ccid\n")
    try:
        trace = w.path("strace.out")
        conf = w.path("nousb.conf")
        with open(conf, "w") as f:
            f.write("disable-ccid\n")
        out = subprocess.run(
            ["strace", "-f", "-qq", "-e", "trace=%file", "-o", trace, w.dualscd,
             "--server", "--options", conf], input=b"SERIALNO\nGETINFO reader_list\nBYE\n",
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=w.emu_env, timeout=60)
        check(b"ERR" in out.stdout, "SERIALNO found a card without USB or pcscd: %r"
              % out.stdout)
        with open(trace, errors="replace") as f:
            usb = [x.strip() for x in f if "/dev/bus/usb" in x or "/sys/bus/usb" in x]
        check(not usb, "dualscd touched USB with disable-ccid:\n" + "\n".join(usb[:10]))
        return "no /dev/bus/usb or /sys/bus/usb access in strace"
    finally:
        w.stop()


def idle(build):
    w = World(build, ["--ccid", "apdu"], conf="")
    try:
        w.card_status_ok("before idling")
        pid = w.daemon_pid()

        def switches():
            total = 0
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                    for line in f:
                        if "ctxt_switches" in line:
                            total += int(line.split()[1])
            return total

        time.sleep(2)
        before = switches()
        time.sleep(IDLE_SECONDS)
        n = switches() - before
        check(n < IDLE_MAX_SWITCHES, "%d context switches in %d s" % (n, IDLE_SECONDS))
        w.card_status_ok("after idling")
        return "%d context switches in %d s holding the USB reader" % (n, IDLE_SECONDS)
    finally:
        w.stop()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        print("usage: test-ccid.py BUILD_DIR [--idle]", file=sys.stderr)
        return 2
    build = os.path.abspath(args[0])
    n = failed = 0

    def step(name, fn, *a):
        nonlocal n, failed
        n += 1
        try:
            note = fn(*a)
            print("ok %d - %s%s" % (n, name, " # " + note if note else ""))
        except Exception as e:  # every failure is reported, the run goes on
            failed += 1
            print("not ok %d - %s" % (n, name))
            text = str(e) if isinstance(e, Failed) else traceback.format_exc()
            for line in text.splitlines():
                print("#   " + line)
        sys.stdout.flush()

    if "--idle" in sys.argv:
        step("idle dualscd holding a USB reader sleeps", idle, build)
    else:
        w = None
        try:
            w = World(build, ["--ccid", "apdu"], conf="")
        except Failed as e:
            print("1..1\nnot ok 1 - world starts\n# %s" % e)
            return 1
        step("gpg --card-status over the CCID driver", card_status_ccid, w)
        step("an APDU costs one bulk-out and one bulk-in", one_bulk_pair_per_apdu, w)
        step("card removal, reader unplug: errors, then back", removal_and_unplug, w)
        rc, out = w.stop()
        n += 1
        print("%s %d - world stops cleanly%s" % ("not ok" if rc else "ok", n,
                                                 "\n# " + out[-500:] if rc else ""))
        failed += 1 if rc else 0
        step("pcscd holds the reader: dualscd goes through pcscd", pcscd_holds_reader, build)
        step("another program holds the reader: EBUSY naming it",
             other_program_holds_reader, build)
        step("dualscd releases the reader after card-timeout",
             dualscd_holds_then_releases, build)
        step("a kernel driver holds the reader: EBUSY naming it",
             kernel_driver_holds_reader, build)
        step("disable-ccid: no USB access", disable_ccid_no_usb, build)
        step("pinpad: VERIFY typed on the reader", pinpad, build)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
