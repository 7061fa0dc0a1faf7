#!/usr/bin/python3
# emu-ctl.py - send one command to dualscd-ccid-emu's control socket
#
# Usage: emu-ctl.py SOCKET WORD...
# Prints the reply line; exits 0 if it starts with "ok", 1 otherwise.
import socket
import sys


def main():
    if len(sys.argv) < 3:
        print("usage: emu-ctl.py SOCKET WORD...", file=sys.stderr)
        return 2
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sys.argv[1])
    s.sendall((" ".join(sys.argv[2:]) + "\n").encode())
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    s.close()
    reply = buf.decode(errors="replace").split("\n")[0]
    print(reply)
    return 0 if reply.startswith("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
