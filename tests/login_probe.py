#!/usr/bin/env python3
"""A raw iSCSI initiator for tests/security.test: the logins a real
initiator never sends (AuthMethod=None to a CHAP target, a wrong user, a
silent or one-byte-a-second login, oversized or endless keys), each
reported as one line the test compares:

  status 0xCCDD       the Login Response's status class and detail
  closed after S      seconds until the target closed the connection
  reject 0xRR         a Reject PDU and its reason
  text ok             a Text Response

Usage: login_probe.py HOST PORT TARGET MODE [ARGS]
  login none|chap [USER SECRET]   log in to the full feature phase
  silent                          connect and send nothing
  slow                            a Login Request, one byte a second
  big BYTES                       one Login Request of BYTES bytes of keys
  continued PDUS BYTES            PDUS Login Requests of BYTES each, C bit set
  text BYTES                      log in (None), then Text Requests of 4000
                                  bytes each with the C bit until BYTES went,
                                  then a SendTargets=All on the same
                                  connection
Exit status 0 when it could say one of those, 2 otherwise."""

import hashlib
import socket
import struct
import sys
import time

INITIATOR = "iqn.2026-11.org.mirrortest:login-probe"
ISID = bytes([0x80, 0, 0, 0x12, 0x34, 0])


def keys(pairs):
    return b"".join(k.encode() + b"=" + v.encode() + b"\0" for k, v in pairs)


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


class Conn:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.itt = 1
        self.cmdsn = 1
        self.statsn = 0

    def login_pdu(self, csg, nsg, transit, data, cont=False):
        flags = (0x80 if transit else 0) | (0x40 if cont else 0) | (csg << 2) | (nsg if transit else 0)
        bhs = struct.pack(">BBBBB", 0x43, flags, 0, 0, 0) + len(data).to_bytes(3, "big")
        bhs += ISID + struct.pack(">HIHHII", 0, self.itt, 0, 0, self.cmdsn, self.statsn)
        bhs += b"\0" * (48 - len(bhs))
        return bhs + pad4(data)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def recv_pdu(self):
        bhs = self.recv_exact(48)
        dsl = int.from_bytes(bhs[5:8], "big")
        data = self.recv_exact(dsl + (-dsl % 4))[:dsl] if dsl else b""
        if bhs[0] & 0x3F in (0x23, 0x24, 0x3F):
            self.statsn = struct.unpack(">I", bhs[24:28])[0] + 1
        return bhs, data

    def login_step(self, csg, nsg, transit, pairs):
        self.s.sendall(self.login_pdu(csg, nsg, transit, keys(pairs)))
        bhs, data = self.recv_pdu()
        if bhs[0] & 0x3F != 0x23:
            raise RuntimeError("not a Login Response: opcode 0x%02x" % (bhs[0] & 0x3F))
        status = bhs[36] << 8 | bhs[37]
        kv = dict(p.split("=", 1) for p in data.decode(errors="replace").split("\0") if "=" in p)
        return status, bhs, kv


def login(c, target, method, user=None, secret=None):
    """0 once in the full feature phase, else the failing status."""
    base = [("InitiatorName", INITIATOR), ("TargetName", target), ("SessionType", "Normal")]
    if method == "none":
        st, _, _ = c.login_step(0, 1, True, base + [("AuthMethod", "None")])
        if st:
            return st
    else:
        st, _, _ = c.login_step(0, 1, False, base + [("AuthMethod", "CHAP")])
        if st:
            return st
        st, _, kv = c.login_step(0, 1, False, [("CHAP_A", "5")])
        if st:
            return st
        ident = int(kv["CHAP_I"])
        chal = bytes.fromhex(kv["CHAP_C"][2:])
        resp = hashlib.md5(bytes([ident]) + secret.encode() + chal).hexdigest()
        st, _, _ = c.login_step(0, 1, True, [("CHAP_N", user), ("CHAP_R", "0x" + resp)])
        if st:
            return st
    st, bhs, _ = c.login_step(1, 3, True, [("HeaderDigest", "None"), ("DataDigest", "None")])
    if st:
        return st
    if not bhs[1] & 0x80 or bhs[1] & 3 != 3:
        raise RuntimeError("no transit to the full feature phase")
    return 0


def wait_closed(c, t0, limit=25):
    c.s.settimeout(limit)
    try:
        while c.s.recv(4096):
            pass
    except (ConnectionResetError, socket.timeout):
        pass
    return time.monotonic() - t0


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, target, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    args = sys.argv[5:]
    c = Conn(host, port)
    t0 = time.monotonic()
    base = [("InitiatorName", INITIATOR), ("TargetName", target), ("SessionType", "Normal"),
            ("AuthMethod", "None")]
    if mode == "login":
        st = login(c, target, args[0], *args[1:3])
        print("status 0x%04x" % st)
    elif mode == "silent":
        print("closed after %.1f" % wait_closed(c, t0))
    elif mode == "slow":
        pdu = c.login_pdu(0, 1, True, keys(base))
        try:
            for b in pdu:
                if time.monotonic() - t0 > 20:
                    print("still open after 20 s")
                    return 2
                c.s.sendall(bytes([b]))
                time.sleep(1)
                c.s.setblocking(False)
                try:
                    if c.s.recv(4096) == b"":
                        break
                except BlockingIOError:
                    pass
                finally:
                    c.s.setblocking(True)
            else:
                print("login sent whole, %d bytes" % len(pdu))
                return 2
        except (BrokenPipeError, ConnectionResetError):
            pass
        print("closed after %.1f" % (time.monotonic() - t0))
    elif mode == "big":
        n = int(args[0])
        pairs = list(base)
        i = 0
        while len(keys(pairs)) < n:
            pairs.append(("X-probe-%05d" % i, "v" * 200))
            i += 1
        c.s.sendall(c.login_pdu(0, 1, True, keys(pairs)[:n - 1] + b"\0"))
        bhs, _ = c.recv_pdu()
        print("status 0x%04x" % (bhs[36] << 8 | bhs[37]) if bhs[0] & 0x3F == 0x23
              else "opcode 0x%02x" % (bhs[0] & 0x3F))
    elif mode == "continued":
        pdus, each = int(args[0]), int(args[1])
        chunk = keys([("X-probe", "v" * (each - 10))])[:each]
        for i in range(pdus):
            data = keys(base) if i == 0 else chunk
            c.s.sendall(c.login_pdu(0, 1, False, data, cont=True))
            bhs, _ = c.recv_pdu()
            st = bhs[36] << 8 | bhs[37]
            if st:
                print("status 0x%04x" % st)
                break
        else:
            print("status 0x0000 after %d PDUs" % pdus)
    elif mode == "text":
        total = int(args[0])
        st = login(c, target, "none")
        if st:
            print("status 0x%04x" % st)
            return 2
        sent = 0
        chunk = keys([("X-probe", "v" * 3990)])
        while True:
            bhs = struct.pack(">BBBBB", 0x44, 0x40, 0, 0, 0) + len(chunk).to_bytes(3, "big")
            bhs += b"\0" * 8 + struct.pack(">IIII", c.itt, 0xFFFFFFFF, c.cmdsn, c.statsn)
            bhs += b"\0" * (48 - len(bhs))
            c.s.sendall(bhs + pad4(chunk))
            sent += len(chunk)
            rb, _ = c.recv_pdu()
            if rb[0] & 0x3F == 0x3F:
                print("reject 0x%02x after %d bytes" % (rb[2], sent))
                break
            if sent > total:
                print("no reject after %d bytes" % sent)
                return 2
        data = keys([("SendTargets", "All")])
        bhs = struct.pack(">BBBBB", 0x44, 0x80, 0, 0, 0) + len(data).to_bytes(3, "big")
        bhs += b"\0" * 8 + struct.pack(">IIII", c.itt + 1, 0xFFFFFFFF, c.cmdsn, c.statsn)
        bhs += b"\0" * (48 - len(bhs))
        c.s.sendall(bhs + pad4(data))
        rb, rd = c.recv_pdu()
        # only the answer to SendTargets: nothing of the refused keys
        print("text ok" if rb[0] & 0x3F == 0x24 and b"TargetName=" in rd and b"X-probe" not in rd
              else "opcode 0x%02x: %.60r" % (rb[0] & 0x3F, rd))
    else:
        print("unknown mode %s" % mode, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except EOFError:
        print("closed")
        sys.exit(0)
