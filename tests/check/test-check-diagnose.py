#!/usr/bin/python3
"""test-check-diagnose.py - dualscd-check's diagnosis, end to end (TAP).

Usage: test-check-diagnose.py DUALSCD_CHECK SCHEMA START_SH STOP_SH BUILD_DIR

Without hardware: a umockdev testbed (through GObject introspection, so
/usr/bin/python3) holds one USB CCID reader described by its sysfs
attributes and descriptors only.  dualscd-check never opens a reader, so no
ioctl emulation is needed.  "Holders" are copies of sleep(1) named pcscd or
scdaemon that keep the emulated device node open; a kernel driver is a
sysfs driver link.  A private pcscd world (tests/world/start.sh) makes
PC/SC reachable.  Every JSON output is validated against SCHEMA (a JSON
Schema subset checked by the small validator below: no PyPI).
"""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

CHECK, SCHEMA, START, STOP, BUILD = sys.argv[1:6]
PRELOAD = "libumockdev-preload.so.0"
NOBODY = 65534

results = []
started = []  # pids of the holder processes this test started
tmp = tempfile.mkdtemp(prefix="test-check-diagnose-")
os.chmod(tmp, 0o755)


def ok(cond, name, diag=""):
    results.append(bool(cond))
    print("%s %d - %s" % ("ok" if cond else "not ok", len(results), name))
    if not cond and diag:
        for line in str(diag).splitlines()[:40]:
            print("#   " + line)
    sys.stdout.flush()


# ---------------------------------------------------------------------------
# A JSON Schema subset validator.

TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def type_ok(value, name):
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, TYPES[name])


def validate(value, schema, path="$"):
    """Returns a list of error strings."""
    errors = []
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        if not any(type_ok(value, t) for t in types):
            return ["%s: %r is not of type %s" % (path, value, types)]
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %r not in %r" % (path, value, schema["enum"]))
    if "minimum" in schema and isinstance(value, int) and not isinstance(value, bool):
        if value < schema["minimum"]:
            errors.append("%s: %r below %r" % (path, value, schema["minimum"]))
    if "pattern" in schema and isinstance(value, str):
        if not re.search(schema["pattern"], value):
            errors.append("%s: %r does not match %s" % (path, value, schema["pattern"]))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append("%s: missing %s" % (path, key))
        for key, item in value.items():
            if key in props:
                errors += validate(item, props[key], path + "." + key)
            elif schema.get("additionalProperties") is False:
                errors.append("%s: unexpected member %s" % (path, key))
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], "%s[%d]" % (path, i))
    return errors


with open(SCHEMA) as f:
    schema = json.load(f)

# ---------------------------------------------------------------------------
# Running dualscd-check.


def home(name, conf=None, agent_conf=None):
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    if conf is not None:
        with open(os.path.join(d, "scdaemon.conf"), "w") as f:
            f.write(conf)
    if agent_conf is not None:
        with open(os.path.join(d, "gpg-agent.conf"), "w") as f:
            f.write(agent_conf)
    return d


def run(args, env_extra=None, testbed=None, user=None, stdin=None):
    env = dict(os.environ)
    env.pop("GNUPGHOME", None)
    env["PCSCLITE_CSOCK_NAME"] = os.path.join(tmp, "no-pcscd.comm")
    if testbed:
        env["UMOCKDEV_DIR"] = testbed
        env["LD_PRELOAD"] = PRELOAD
        # Under ASan the preload comes before the sanitizer runtime; that
        # is harmless here (umockdev wraps libc calls only).
        opts = env.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "verify_asan_link_order=0"
    env.update(env_extra or {})
    cmd = [CHECK] + args
    if user is not None:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, timeout=30)
    p.wall_ms = (time.monotonic() - t0) * 1000
    return p


def run_json(args, **kw):
    if args[:1] == ["diagnose"]:
        args = ["diagnose", "--json"] + args[1:]
    else:
        args = ["--json"] + args
    p = run(args, **kw)
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        doc = None
        p.json_error = "%s\n%s\n%s" % (e, p.stdout, p.stderr)
    p.doc = doc
    return p


def check_schema(p, name):
    if p.doc is None:
        ok(False, name + ": output is JSON", getattr(p, "json_error", ""))
        return
    errors = validate(p.doc, schema)
    ok(not errors, name + ": JSON matches the schema", "\n".join(errors))


def finding(doc, fid):
    return [f for f in (doc or {}).get("findings", []) if f["id"] == fid]


# ---------------------------------------------------------------------------
# The emulated reader: a umockdev testbed with sysfs attributes only.


def ccid_descriptors():
    ccid = struct.pack("<BBHBBIIIBIIBIIIIIBBHBB", 54, 0x21, 0x110, 0, 7, 3, 4000, 4000,
                       0, 10752, 10752, 0, 254, 0, 0, 0x000400FE, 271, 0xFF, 0xFF, 0, 0, 1)
    eps = b"".join(struct.pack("<BBBBHB", 7, 5, a, t, 64, i)
                   for a, t, i in ((0x81, 3, 16), (0x02, 2, 0), (0x83, 2, 0)))
    intf = struct.pack("<9B", 9, 4, 0, 0, 3, 0x0B, 0, 0, 0) + ccid + eps
    cfg = struct.pack("<BBHBBBBB", 9, 2, 9 + len(intf), 1, 1, 0, 0x80, 50) + intf
    dev = struct.pack("<BBHBBBBHHHBBBB", 18, 1, 0x200, 0, 0, 0, 64, 0x1050, 0x0407,
                      0x100, 1, 2, 3, 1)
    return dev + cfg


def make_testbed():
    import gi
    gi.require_version("UMockdev", "1.0")
    from gi.repository import UMockdev
    tb = UMockdev.Testbed.new()
    sp = tb.add_device("usb", "usb1/1-1", None,
                       ["busnum", "1", "devnum", "2", "idVendor", "1050",
                        "idProduct", "0407", "product", "YubiKey OTP+FIDO+CCID",
                        "serial", "0012345", "bConfigurationValue", "1", "speed", "12"],
                       ["DEVNAME", "/dev/bus/usb/001/002", "DEVTYPE", "usb_device",
                        "BUSNUM", "001", "DEVNUM", "002", "PRODUCT", "1050/407/100"])
    tb.set_attribute_binary(sp, "descriptors", ccid_descriptors())
    root = tb.get_root_dir()
    os.chmod(root, 0o755)
    node_dir = os.path.join(root, "dev/bus/usb/001")
    os.makedirs(node_dir, exist_ok=True)
    with open(os.path.join(node_dir, "002"), "wb"):
        pass
    os.chmod(os.path.join(node_dir, "002"), 0o664)
    return tb, root


def hold(testbed, name):
    """Starts a process called NAME that keeps the emulated node open."""
    prog = os.path.join(tmp, "bin", name)
    os.makedirs(os.path.dirname(prog), exist_ok=True)
    if not os.path.exists(prog):
        shutil.copy("/bin/sleep", prog)
    env = dict(os.environ, UMOCKDEV_DIR=testbed, LD_PRELOAD=PRELOAD)
    p = subprocess.Popen(["/bin/sh", "-c", 'exec "$0" 600 3<>/dev/bus/usb/001/002', prog],
                         env=env, stdin=subprocess.DEVNULL)
    started.append(p)
    for _ in range(100):  # until exec has happened and the fd is open
        try:
            with open("/proc/%d/comm" % p.pid) as f:
                if f.read().strip() == name:
                    break
        except OSError:
            pass
        time.sleep(0.01)
    return p


def release(p):
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)
    started.remove(p)


def kernel_driver(root, name):
    base = os.path.join(root, "sys/bus/usb")
    os.makedirs(os.path.join(base, "drivers", name), exist_ok=True)
    os.makedirs(os.path.join(root, "sys/module", name), exist_ok=True)
    os.symlink("../../../../module/" + name, os.path.join(base, "drivers", name, "module"))
    intf = os.path.join(base, "devices", "1-1:1.0")
    os.makedirs(intf, exist_ok=True)
    os.symlink("../../drivers/" + name, os.path.join(intf, "driver"))
    return intf


# ---------------------------------------------------------------------------
# Cases without a reader.


def cases_plain():
    h = home("plain", conf="# nothing\n")
    p = run_json(["--homedir", h])
    check_schema(p, "no reader, no conflict")
    ok(p.returncode == 0 and p.doc and not p.doc["findings"],
       "no reader, no conflict: exit 0, no findings", p.stdout + p.stderr)

    for args, want, name in ((["--bogus"], 2, "unknown option"),
                             (["diagnose", "--homedir"], 2, "--homedir without a value"),
                             (["--ignore-pid", "x"], 2, "--ignore-pid not a number"),
                             (["nosuch"], 2, "unknown subcommand"),
                             (["--help"], 0, "--help"),
                             (["diagnose", "--help"], 0, "diagnose --help")):
        p = run(args)
        ok(p.returncode == want, "%s exits %d" % (name, want), p.stdout + p.stderr)

    p = run(["atr", "3B 02 14 50"])
    ok(p.returncode == 0 and "T=0" in p.stdout, "the atr subcommand is unchanged", p.stderr)

    h = home("pcscd-off", conf="# use pcscd\ndisable-ccid\n")
    p = run_json(["diagnose", "--homedir", h])
    check_schema(p, "disable-ccid without pcscd")
    f = finding(p.doc, "pcscd-not-running")
    ok(p.returncode == 1 and len(f) == 1 and f[0]["fix"] == "sudo systemctl start pcscd.socket"
       and "sets disable-ccid, so the card daemon uses only PC/SC" in f[0]["message"],
       "disable-ccid without pcscd: finding pcscd-not-running, exit 1", p.stdout)
    p = run(["--homedir", h])
    ok(p.returncode == 1 and "[error] pcscd-not-running:" in p.stdout
       and "fix: sudo systemctl start pcscd.socket" in p.stdout,
       "disable-ccid without pcscd: the text names finding and fix", p.stdout)

    # The check itself fails: exit 2, a message, nothing on stdout.
    h = home("broken")
    os.mkdir(os.path.join(h, "scdaemon.conf"))
    p = run(["--json", "--homedir", h])
    ok(p.returncode == 2 and p.stdout == "" and "cannot read the configuration" in p.stderr,
       "unreadable scdaemon.conf: exit 2", p.stdout + p.stderr)

    p = run(["--fix", "--yes", "--homedir", home("nothing", conf="# x\n")])
    ok(p.returncode == 0 and "nothing for --fix to do" in p.stdout
       and open(os.path.join(tmp, "nothing", "scdaemon.conf")).read() == "# x\n",
       "--fix without a fixable finding changes nothing", p.stdout + p.stderr)

    # Config parsing: scdaemon.conf through dualscd's own loader,
    # gpg-agent.conf's scdaemon-program, --homedir over GNUPGHOME.
    h = home("conf", conf="# comment\nreader-port Foo Reader 00 00\ncard-timeout 5\n"
             "pcsc-exclusive\n",
             agent_conf="# x\nscdaemon-program /opt/dualscd/libexec/dualscd\n")
    other = home("other", conf="disable-ccid\n")
    p = run_json(["--homedir", h], env_extra={"GNUPGHOME": other})
    c = (p.doc or {}).get("config", {})
    ok(c.get("homedir") == h and c.get("reader_port") == "Foo Reader 00 00"
       and c.get("card_timeout") == 5 and c.get("pcsc_shared") is False
       and c.get("disable_ccid") is False
       and c.get("scdaemon_program") == "/opt/dualscd/libexec/dualscd",
       "config: scdaemon.conf and gpg-agent.conf values, --homedir wins", json.dumps(c))
    p = run_json([], env_extra={"GNUPGHOME": other})
    c = (p.doc or {}).get("config", {})
    ok(c.get("homedir") == other and c.get("disable_ccid") is True
       and c.get("scdaemon_conf") == other + "/scdaemon.conf",
       "config: GNUPGHOME when no --homedir", json.dumps(c))
    p = run(["--homedir", h])
    ok("reader-port: Foo Reader 00 00" in p.stdout and "card-timeout: 5" in p.stdout
       and "scdaemon-program: /opt/dualscd/libexec/dualscd" in p.stdout,
       "config: the text shows the values", p.stdout)


# ---------------------------------------------------------------------------
# Cases with the emulated reader.


def conflict_cases(tb_root, world_env):
    pcsc = {"PCSCLITE_CSOCK_NAME": world_env["PCSCLITE_CSOCK_NAME"]}
    h = home("free", conf="")
    p = run_json(["--homedir", h], testbed=tb_root, env_extra=pcsc)
    check_schema(p, "free reader")
    r = (p.doc or {}).get("readers", [])
    ok(len(r) == 1 and r[0]["vid"] == "1050" and r[0]["pid"] == "0407"
       and r[0]["product"] == "YubiKey OTP+FIDO+CCID" and r[0]["serial"] == "0012345"
       and r[0]["bus"] == 1 and r[0]["device"] == 2 and r[0]["interface"] == 0
       and r[0]["node_exists"] and r[0]["may_open"] and "CCID 1.10" in r[0]["ccid"],
       "free reader: listed with its identity and CCID descriptor", p.stdout + p.stderr)
    ok(r and r[0]["holder"] == "reader 1050:0407 (YubiKey OTP+FIDO+CCID) is not held by any "
       "process" and not p.doc["holders"] and p.returncode == 0,
       "free reader: nobody holds it, exit 0", p.stdout)
    readers = (p.doc or {}).get("pcsc", {}).get("readers", [])
    ok(p.doc and p.doc["pcsc"]["reachable"] and readers and readers[0]["card_present"]
       and readers[0]["atr"] == world_env["DUALSCD_WORLD_ATR"].upper()
       and "T=1" in (readers[0]["atr_info"] or ""),
       "PC/SC: the world's reader with card, ATR and its decoding",
       json.dumps((p.doc or {}).get("pcsc")))
    ok(p.doc and p.doc["elapsed_ms"] < 1000 and p.wall_ms < 1000,
       "whole check under a second (%s ms inside, %.0f ms wall)"
       % ((p.doc or {}).get("elapsed_ms"), p.wall_ms))

    # Speed with a few hundred more processes on the machine.
    crowd = [subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL)
             for _ in range(300)]
    try:
        p = run_json(["--homedir", h], testbed=tb_root, env_extra=pcsc)
        procs = sum(1 for n in os.listdir("/proc") if n.isdigit())
    finally:
        for c in crowd:
            c.kill()
            c.wait()
    ok(p.doc and p.doc["elapsed_ms"] < 1000 and p.wall_ms < 1000,
       "with %d processes: whole check in %s ms inside, %.0f ms wall"
       % (procs, (p.doc or {}).get("elapsed_ms"), p.wall_ms))

    # (a) pcscd holds the reader while the card daemon is set for CCID.
    conf_text = "# my settings\nlog-file /tmp/x.log   # keep\n"
    h = home("a", conf=conf_text)
    pcscd = hold(tb_root, "pcscd")
    p = run_json(["--homedir", h], testbed=tb_root, env_extra=pcsc)
    check_schema(p, "pcscd holds")
    f = finding(p.doc, "pcscd-holds-reader")
    conf = h + "/scdaemon.conf"
    ok(p.returncode == 1 and len(f) == 1 and f[0]["fixable"]
       and f[0]["message"].startswith("pcscd (pid %d) holds reader 1050:0407 "
                                      "(YubiKey OTP+FIDO+CCID), but %s does not set "
                                      "disable-ccid" % (pcscd.pid, conf))
       and f[0]["fix"] == "echo disable-ccid >> '%s' && gpgconf --kill scdaemon" % conf,
       "pcscd holds: finding names pcscd's pid, fix adds disable-ccid", p.stdout)
    hs = (p.doc or {}).get("holders", [])
    ok(len(hs) == 1 and hs[0]["kind"] == "pcscd" and hs[0]["pid"] == pcscd.pid
       and hs[0]["user"] == "root" and hs[0]["reader"] == 0,
       "pcscd holds: the holder list names it", json.dumps(hs))
    p = run(["--homedir", h], testbed=tb_root, env_extra=pcsc)
    ok("holder: reader 1050:0407 (YubiKey OTP+FIDO+CCID) is held by pcscd pid %d (user root)"
       % pcscd.pid in p.stdout, "pcscd holds: the text's holder sentence", p.stdout)

    h2 = home("a-dualscd", conf="", agent_conf="scdaemon-program /usr/libexec/dualscd\n")
    p = run_json(["--homedir", h2], testbed=tb_root, env_extra=pcsc)
    f = finding(p.doc, "pcscd-holds-reader")
    ok(len(f) == 1 and f[0]["severity"] == "warning"
       and "dualscd then falls back to PC/SC" in f[0]["message"],
       "pcscd holds, dualscd configured: a warning, it falls back", p.stdout)

    # --fix on a symlinked scdaemon.conf writes the target, keeps the link.
    h3 = home("a-link")
    target = os.path.join(tmp, "dotfiles-scdaemon.conf")
    with open(target, "w") as f3:
        f3.write("# managed elsewhere\n")
    os.symlink(target, h3 + "/scdaemon.conf")
    p = run(["--homedir", h3, "--fix", "--yes"], testbed=tb_root, env_extra=pcsc)
    ok(os.path.islink(h3 + "/scdaemon.conf")
       and open(target).read().endswith("\ndisable-ccid\n")
       and open(target).read().startswith("# managed elsewhere\n"),
       "--fix on a symlinked scdaemon.conf keeps the link", p.stdout + p.stderr)

    # --fix on a file without a final newline, whose disable-ccid is
    # commented out.
    h4 = home("a-nonl", conf="# disable-ccid\ncard-timeout 3")
    p = run(["--homedir", h4, "--fix", "--yes"], testbed=tb_root, env_extra=pcsc)
    ok(open(h4 + "/scdaemon.conf").read() == "# disable-ccid\ncard-timeout 3\n"
       "# Added by dualscd-check --fix: let pcscd drive the USB readers.\ndisable-ccid\n"
       and p.returncode == 0,
       "--fix: a commented disable-ccid does not count; the last line is ended",
       p.stdout + p.stderr)

    # --fix: asks first; "n" changes nothing.
    p = run(["--homedir", h, "--fix"], testbed=tb_root, env_extra=pcsc, stdin="n\n")
    ok(open(conf).read() == conf_text and "nothing changed" in p.stdout
       and "[y/N]" in p.stdout, "--fix asks first and a no changes nothing", p.stdout)
    p = run_json(["--homedir", h, "--fix", "--yes"], testbed=tb_root, env_extra=pcsc)
    check_schema(p, "--fix --yes")
    text = open(conf).read()
    backups = [n for n in os.listdir(h) if n.startswith("scdaemon.conf.bak-")]
    ok(text.startswith(conf_text) and text.rstrip().endswith("\ndisable-ccid")
       and len(backups) == 1 and open(os.path.join(h, backups[0])).read() == conf_text,
       "--fix: comments kept, disable-ccid appended, backup made", text + repr(backups))
    ok(p.returncode == 0 and not p.doc["findings"] and "gpgconf" in p.stderr,
       "--fix: the next state reports no conflict, gpgconf was run", p.stdout + p.stderr)
    p = run_json(["--homedir", h, "--fix", "--yes"], testbed=tb_root, env_extra=pcsc)
    backups2 = [n for n in os.listdir(h) if n.startswith("scdaemon.conf.bak-")]
    ok(open(conf).read() == text and backups2 == backups and p.returncode == 0,
       "--fix twice: the second changes nothing", p.stderr)
    p = run_json(["--homedir", h], testbed=tb_root, env_extra=pcsc)
    ok(p.returncode == 0 and not p.doc["findings"], "after --fix: no conflict", p.stdout)

    # (b) a card daemon holds the reader while pcscd runs; then both.
    h = home("b", conf="")
    scd = hold(tb_root, "scdaemon")
    release(pcscd)
    p = run_json(["--homedir", h], testbed=tb_root, env_extra=pcsc)
    check_schema(p, "scdaemon holds")
    f = finding(p.doc, "card-daemon-holds-reader")
    ok(p.returncode == 1 and len(f) == 1 and f[0]["fixable"]
       and f[0]["message"].startswith("GnuPG's scdaemon (pid %d, user root) holds reader "
                                      "1050:0407 (YubiKey OTP+FIDO+CCID) with its own CCID "
                                      "driver, so pcscd" % scd.pid)
       and "card-timeout" not in f[0]["message"],
       "scdaemon holds: finding explains pcscd's failure", p.stdout)
    pcscd = hold(tb_root, "pcscd")
    p = run_json(["--homedir", h], testbed=tb_root, env_extra=pcsc)
    f = finding(p.doc, "several-holders")
    ok(len(f) == 1 and "2 programs have reader 1050:0407" in f[0]["message"]
       and ("scdaemon pid %d" % scd.pid) in f[0]["message"]
       and ("pcscd pid %d" % pcscd.pid) in f[0]["message"],
       "two holders: finding several-holders names both", p.stdout)
    release(scd)
    release(pcscd)

    # (d) a kernel driver is bound to the CCID interface.
    intf = kernel_driver(tb_root, "pn533_usb")
    h = home("d", conf="")
    p = run_json(["--homedir", h], testbed=tb_root, env_extra=pcsc)
    check_schema(p, "kernel driver")
    f = finding(p.doc, "kernel-driver")
    ok(p.returncode == 1 and len(f) == 1 and not f[0]["fixable"]
       and f[0]["message"].startswith("the kernel driver pn533_usb is bound to reader "
                                      "1050:0407")
       and f[0]["fix"] == "sudo modprobe -r pn533_usb && echo 'blacklist pn533_usb' | "
       "sudo tee /etc/modprobe.d/blacklist-pn533_usb.conf",
       "kernel driver: named, with modprobe fix printed", p.stdout)
    os.unlink(os.path.join(intf, "driver"))

    # No permission: run as nobody on a node only root may open.
    node = os.path.join(tb_root, "dev/bus/usb/001/002")
    os.chmod(node, 0o600)
    # umockdev emulates the udev monitor's netlink socket by a socket in
    # the testbed root (event<FD>, replacing stale ones): libusb as nobody
    # needs to create it there.
    os.chmod(tb_root, 0o777)
    h = home("perm", conf="")
    p = run_json(["--homedir", h], testbed=tb_root, env_extra=pcsc, user=NOBODY)
    check_schema(p, "no permission")
    f = finding(p.doc, "no-permission")
    r = (p.doc or {}).get("readers", [{}])
    ok(p.returncode == 1 and len(f) == 1 and "ATTR{idVendor}==\"1050\"" in f[0]["fix"]
       and "ATTR{idProduct}==\"0407\"" in f[0]["fix"]
       and "/etc/udev/rules.d/70-dualscd-1050-0407.rules" in f[0]["fix"]
       and r and r[0].get("may_open") is False,
       "no permission: finding with the udev rule to add", p.stdout + p.stderr)
    ok(r and "processes of other users could not be inspected" in r[0].get("holder", "")
       and r[0].get("unreadable_processes", 0) > 0,
       "as nobody: says other users' processes could not be inspected",
       json.dumps(r))
    os.chmod(node, 0o664)


def start_world():
    world = os.path.join(tmp, "world")
    p = subprocess.run([START, BUILD, world], capture_output=True, text=True, timeout=120)
    env = {}
    for line in p.stdout.splitlines():
        m = re.match(r"export (\w+)=(.*)", line)
        if m:
            env[m.group(1)] = m.group(2).strip("'")
    return world, env, p


def main():
    cases_plain()
    world, world_env, p = start_world()
    ok(p.returncode == 0 and "PCSCLITE_CSOCK_NAME" in world_env,
       "a private pcscd world starts", p.stdout + p.stderr)
    tb = None
    try:
        if p.returncode == 0:
            tb, root = make_testbed()
            conflict_cases(root, world_env)
    finally:
        for h in list(started):
            release(h)
        subprocess.run([STOP, world], capture_output=True, timeout=60)
        if tb is not None:
            del tb
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
