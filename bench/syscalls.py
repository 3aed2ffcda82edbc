#!/usr/bin/env python3
"""bench/syscalls.py - count the system calls of one whole session.

The server runs under `strace -c` (the server process only: without -f,
so the delivery command's own calls are not counted) with a clean
environment, as inetd starts it (PATH=/usr/bin:/bin, nothing else), on
one end of a socketpair as fds 0 and 1, or on two pipes with --pipes.
The client writes one pipelined session at once - EHLO, MAIL, RCPT,
DATA, the message, the dot, QUIT - while reading every reply, and the
message goes to `sh -c 'cat >/dev/null'`.  Prints the strace table and
the total; exits non-zero if the replies are not the expected ones.
With --runs N the session runs N times and the table printed is that of
a run with the median total: how often the server polls and reaps while
its delivery command ends depends on scheduling, so totals vary by a
few calls from run to run.

Run from the repository root after `make` (figures, not assertions):

    python3 bench/syscalls.py                  # a small message
    python3 bench/syscalls.py --size 10485760  # a 10 MiB message
    python3 bench/syscalls.py --pipes          # pipes instead of a socket
    python3 bench/syscalls.py --runs 21        # the median of 21 runs
    python3 bench/syscalls.py --trace          # every call, not a count
"""
import argparse
import os
import selectors
import socket
import subprocess
import sys
import tempfile

CMD = ["sh", "-c", "cat >/dev/null"]
OPTS = ["--hostname", "bench.test", "--domain", "bench.test",
        "--log-stderr", "--max-size", str(1 << 40)]


def script(size):
    """the pipelined session, with a body of about size octets"""
    line = b"x" * 76 + b"\r\n"
    body = b"Subject: bench\r\n\r\n" + line * max(1, size // len(line))
    return (b"EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n"
            b"RCPT TO:<b@bench.test>\r\nDATA\r\n" + body +
            b".\r\nQUIT\r\n")


def converse(wfd, rfd, data):
    """write data to wfd while reading rfd to EOF; the replies"""
    os.set_blocking(wfd, False)
    sel = selectors.DefaultSelector()
    sel.register(rfd, selectors.EVENT_READ)
    if wfd != rfd:
        sel.register(wfd, selectors.EVENT_WRITE)
    else:
        sel.modify(rfd, selectors.EVENT_READ | selectors.EVENT_WRITE)
    out, done, writing = b"", 0, True
    while True:
        for key, ev in sel.select():
            if ev & selectors.EVENT_WRITE and writing:
                try:
                    done += os.write(wfd, data[done:done + (1 << 20)])
                except BlockingIOError:
                    pass
                if done == len(data):
                    writing = False
                    if wfd == rfd:
                        sel.modify(rfd, selectors.EVENT_READ)
                        socket.socket(fileno=os.dup(wfd)).shutdown(
                            socket.SHUT_WR)
                    else:
                        sel.unregister(wfd)
                        os.close(wfd)
            if ev & selectors.EVENT_READ and key.fd == rfd:
                chunk = os.read(rfd, 65536)
                if not chunk:
                    return out
                out += chunk


def session(a):
    """one traced session: (strace's output, total calls or None)"""
    root = ["--allow-root"] if os.geteuid() == 0 else []
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as res:
        strace = ["strace", "-o", res.name] + ([] if a.trace else ["-c"])
        argv = (["env", "-i", "PATH=/usr/bin:/bin"] + strace +
                [a.bin] + OPTS + root + ["--"] + CMD)
        if a.pipes:
            in_r, in_w = os.pipe()
            out_r, out_w = os.pipe()
            p = subprocess.Popen(argv, stdin=in_r, stdout=out_w,
                                 stderr=subprocess.DEVNULL)
            os.close(in_r)
            os.close(out_w)
            replies = converse(in_w, out_r, script(a.size))
            os.close(out_r)
        else:
            mine, theirs = socket.socketpair()
            p = subprocess.Popen(argv, stdin=theirs, stdout=theirs,
                                 stderr=subprocess.DEVNULL)
            theirs.close()
            replies = converse(mine.fileno(), mine.fileno(),
                               script(a.size))
            mine.close()
        rc = p.wait()
        table = res.read()
    codes = [l[:3] for l in replies.decode().split("\r\n")
             if len(l) > 3 and l[3] == " "]
    if rc != 0 or codes != ["220", "250", "250", "250", "354", "250",
                            "221"]:
        sys.stdout.write(table)
        sys.exit("unexpected: exit %d, replies %s" % (rc, codes))
    total = [l for l in table.splitlines() if l.endswith("total")]
    return table, int(total[0].split()[3]) if total else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="./pipesmtpd")
    ap.add_argument("--size", type=int, default=0)
    ap.add_argument("--pipes", action="store_true")
    ap.add_argument("--trace", action="store_true")
    ap.add_argument("--runs", type=int, default=1)
    a = ap.parse_args()

    if a.trace:
        sys.stdout.write(session(a)[0])
        return 0
    runs = sorted((session(a) for _ in range(max(1, a.runs))),
                  key=lambda r: r[1])
    table, total = runs[len(runs) // 2]
    sys.stdout.write(table)
    print("total system calls: %d" % total)
    if len(runs) > 1:
        totals = [r[1] for r in runs]
        print("over %d runs: min %d, median %d, max %d" %
              (len(runs), totals[0], total, totals[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
