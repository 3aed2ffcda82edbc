#!/usr/bin/env python3
"""bench/run.py - pipesmtpd against the reference floor, side by side.

Runs scenarios A (sessions/s, one and two clients), B (one message to 100
recipients) and C (one large message) of the shared yardstick
(../shared/bench/bench.py) twice per round: once for the built ./pipesmtpd
and once for the floor, `refsmtpd -p` (same shape: spool, one command per
recipient, 250 after all exited; none of the work).  Rounds alternate the
two systems so that a noisy neighbour hurts both alike, and the table
reports each figure as a ratio to the floor measured in the same run.
Figures, never assertions: nothing here fails on a slow machine.

    make bench                     # A, B, C 100 MiB; about two minutes
    python3 bench/run.py --big     # adds C with 1 GiB
    python3 bench/run.py --rounds 9 --json results.jsonl
    python3 bench/run.py --growth  # time and RSS against size, recipients
    python3 bench/run.py --proxy   # only the --proxy-protocol row
    python3 bench/run.py --check   # only the --data-check rows
    python3 bench/run.py --tls     # only the STARTTLS row

The last rows are ours against ours: the same 1 KB session with and
without --proxy-protocol (a v1 header before each session), and with
and without a --data-check (one that adds nothing, /bin/true, and one
that adds a header field, /bin/echo), to 1 and to 10 recipients, so
that each cost shows as a ratio measured in the same run, and the
check's as one fork and exec per message, not per recipient.

The STARTTLS row is ours against Exim: one 100 MiB message inside TLS
over a socketpair, as inetd runs a server, to pipesmtpd behind
s6-ucspitlsd (the launcher `make tls-tools` builds with the script that
builds the Debian package's; $PBENCH_UCSPITLSD names another) and to
`exim4 -bs` doing its own STARTTLS, with the same throw-away certificate,
the same client (Python's ssl, TLS 1.3), the same delivery command, the
two alternating.  The time runs from the first byte of the message to
the server's exit after QUIT, so that Exim's delivery (-odi, after its
250) counts as pipesmtpd's does (before its 250).
"""
import argparse
import json
import os
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)


def yardstick():
    """the shared harness: $PIPESMTPD_YARDSTICK or ../shared/bench"""
    path = os.environ.get("PIPESMTPD_YARDSTICK",
                          os.path.join(TOP, "..", "shared", "bench", "bench.py"))
    if not os.path.exists(path):
        sys.exit("bench/run.py: the yardstick %s is missing (set "
                 "PIPESMTPD_YARDSTICK to bench.py of shared/bench)" % path)
    return path


def servers():
    """the two command lines; {DELIVER} is the yardstick's delivery command"""
    own = ("%s/pipesmtpd --hostname bench.test --domain bench.test "
           "--log-stderr --max-size 2147483648%s -- {DELIVER}"
           % (TOP, " --allow-root" if os.geteuid() == 0 else ""))
    refdir = os.environ.get("PBENCH_REFBIN", "/tmp/smtpbench/bin")
    if not os.path.exists(os.path.join(refdir, "refsmtpd")):
        subprocess.run(["make", "-s", "-C", os.path.join(os.path.dirname(
            yardstick()), "ref"), "OUT=" + refdir], check=True)
    return [("pipesmtpd", own), ("ref-spool", refdir + "/refsmtpd -p -- {DELIVER}")]


def measure(bench, label, server, scenario, extra, repeat):
    """one yardstick run; its median figures"""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as out:
        cmd = [sys.executable, bench, "--quiet", "--label", label,
               "--scenario", scenario, "--repeat", str(repeat),
               "--server", server, "--json", out.name] + extra
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL)
        lines = [l for l in out.read().splitlines() if l.strip()]
    if not lines:
        return None
    res = json.loads(lines[-1])
    if res.get("error"):
        print("bench/run.py: %s %s failed: %s" % (label, scenario,
              res["error"].splitlines()[0]), file=sys.stderr)
        return None
    return res["median"]


# (row name, scenario, extra yardstick arguments, figure, higher is better)
ROWS = [
    ("A sessions/s, 1 client", "A", ["--sessions", "300"], "sessions_per_s", True),
    ("A sessions/s, 2 clients", "A", ["--sessions", "300", "--clients", "2"],
     "sessions_per_s", True),
    ("B 100 rcpt, ms", "B", [], "seconds", False),
    ("C 100 MiB, MiB/s", "C", ["--size-mb", "100"], "mib_per_s", True),
    ("C 100 MiB, server peak RSS KiB", "C", ["--size-mb", "100"], "srv_hwm_kb",
     False),
    ("1 KB message, server peak RSS KiB", "small", [], "srv_hwm_kb", False),
]
BIG = [
    ("C 1 GiB, MiB/s", "C", ["--size-mb", "1024"], "mib_per_s", True),
    ("C 1 GiB, server peak RSS KiB", "C", ["--size-mb", "1024"], "srv_hwm_kb",
     False),
]


def expand(server, deliver="sh -c 'cat >/dev/null'"):
    """the server's argv, {DELIVER} replaced by the delivery command"""
    out = []
    for w in shlex.split(server):
        out.extend(shlex.split(deliver) if w == "{DELIVER}" else [w])
    return out


def small_session(server, size=1024, rcpts=1, header=b"",
                  deliver="sh -c 'cat >/dev/null'"):
    """one message (1 KB by default) over a socketpair, as inetd runs the
    server, after header (a balancer's PROXY line) if any; its VmHWM (peak
    resident set, KiB) read after the reply to the data and before QUIT"""
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(expand(server, deliver), stdin=theirs,
                            stdout=theirs,
                            stderr=subprocess.DEVNULL)
    theirs.close()
    ours.settimeout(30)
    f = ours.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if not line or line[3:4] != b"-":
                return line

    try:
        ours.sendall(header)
        reply()
        body = b"".join(b"%04d %s\r\n" % (i, b"x" * 72)
                        for i in range(size // 79 + 1))
        cmds = [b"EHLO bench.test", b"MAIL FROM:<a@bench.test>"]
        cmds += [b"RCPT TO:<r%d@bench.test>" % i for i in range(rcpts)]
        for cmd in cmds + [b"DATA"]:
            ours.sendall(cmd + b"\r\n")
            reply()
        ours.sendall(body + b".\r\n")
        ok = reply().startswith(b"250")
        with open("/proc/%d/status" % proc.pid) as st:
            hwm = [int(l.split()[1]) for l in st if l.startswith("VmHWM")]
        ours.sendall(b"QUIT\r\n")
        reply()
    finally:
        ours.close()
        proc.wait(30)
    return dict(srv_hwm_kb=hwm[0]) if ok and hwm else None


def run_row(bench, label, server, scen, extra):
    """one measurement of a row's scenario"""
    if scen == "small":
        return small_session(server)
    return measure(bench, label, server, scen, extra, 1)


def growth(bench, rounds):
    """how pipesmtpd's time and peak RSS grow with the message size and
    with the recipients (figures of ours alone, medians of rounds)"""
    own = servers()[0][1]
    print("%-34s %10s %10s %14s" % ("growth", "ms", "per unit", "peak RSS KiB"))
    for mb in (1, 10, 100, 1024):
        runs = [measure(bench, "pipesmtpd", own, "C",
                        ["--size-mb", str(mb)], 1) for _ in range(rounds)]
        runs = [r for r in runs if r]
        if not runs:
            continue
        ms = median([r["data_s"] * 1e3 for r in runs])
        print("%-34s %10.1f %7.2f ms/MiB %10.0f" % (
            "C %d MiB message" % mb, ms, ms / mb,
            median([r["srv_hwm_kb"] for r in runs])))
    for n in (1, 10, 100):
        runs = [measure(bench, "pipesmtpd", own, "B", ["--rcpts", str(n)], 1)
                for _ in range(rounds)]
        runs = [r for r in runs if r]
        hwm = [small_session(own, 10240, n) for _ in range(rounds)]
        hwm = [h["srv_hwm_kb"] for h in hwm if h]
        if not runs or not hwm:
            continue
        ms = median([r["seconds"] * 1e3 for r in runs])
        print("%-34s %10.1f %7.2f ms/rcpt %10.0f" % (
            "B 10 KB message, %d recipient%s" % (n, "s" if n > 1 else ""),
            ms, ms / n, median(hwm)))


PROXY_LINE = b"PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\n"


def proxy_row(rounds, sessions=100):
    """sessions/s of the 1 KB session with --proxy-protocol and a v1
    header, against the same session without either: the two alternate
    session by session, so a noisy neighbour hurts both alike, and each
    figure is one over the median session time"""
    own = servers()[0][1]
    proxied = own.replace(" -- {DELIVER}", " --proxy-protocol -- {DELIVER}")
    times = {"with": [], "without": []}
    for _ in range(rounds * sessions):
        for key, server, header in (("without", own, b""),
                                    ("with", proxied, PROXY_LINE)):
            t0 = time.perf_counter()
            if small_session(server, header=header):
                times[key].append(time.perf_counter() - t0)
    got = {k: 1 / median(v) if v else None for k, v in times.items()}
    ratio = "n/a"
    if got["with"] and got["without"]:
        ratio = "%.2fx" % (got["with"] / got["without"])
    return got, ratio


def print_proxy_row(rounds, json_path):
    """the --proxy-protocol row: ours with it over ours without"""
    got, ratio = proxy_row(rounds)
    fmt = lambda v: "-" if v is None else "%.1f" % v
    print("%-32s %12s %12s %8s" % ("", "with", "without", ""))
    print("%-32s %12s %12s %8s" % ("1 KB session, sessions/s, proxy",
                                   fmt(got["with"]), fmt(got["without"]),
                                   ratio))
    print("ratio: a session behind --proxy-protocol (a v1 header first) "
          "against the same session without it; 1.00x is no cost")
    if json_path:
        with open(json_path, "a") as f:
            f.write(json.dumps(dict(row="proxy-protocol", proxied=got["with"],
                                    plain=got["without"], ratio=ratio)) + "\n")


CHECKS = [("true", "/bin/true"), ("field", "/bin/echo X-Check: ok")]


def check_rows(rounds, sessions=60):
    """ms per 1 KB session to 1 and to 10 recipients without a
    --data-check and with each of CHECKS, the variants alternating
    session by session; medians"""
    own = servers()[0][1]
    variants = [("none", own)] + [
        (name, own.replace(" -- {DELIVER}", " --data-check %s -- {DELIVER}"
                           % shlex.quote(cmd))) for name, cmd in CHECKS]
    got = {}
    for rcpts in (1, 10):
        times = {name: [] for name, _ in variants}
        for _ in range(rounds * sessions // rcpts):
            for name, server in variants:
                t0 = time.perf_counter()
                if small_session(server, rcpts=rcpts):
                    times[name].append(time.perf_counter() - t0)
        for name, _ in variants:
            got[(name, rcpts)] = median(times[name]) * 1e3 if times[name] \
                else None
    return got


def print_check_rows(rounds, json_path):
    """the --data-check rows: ours with each check over ours without"""
    got = check_rows(rounds)
    print("%-32s %12s %12s %8s %10s" % ("", "with", "without", "", "added"))
    for name, cmd in CHECKS:
        for rcpts in (1, 10):
            w, wo = got[(name, rcpts)], got[("none", rcpts)]
            ratio = "%.2fx" % (wo / w) if w and wo else "n/a"
            added = "%.2f ms" % (w - wo) if w and wo else "-"
            label = "1 KB, %d rcpt, ms, %s" % (rcpts, name)
            fmt = lambda v: "-" if v is None else "%.2f" % v
            print("%-32s %12s %12s %8s %10s" % (label, fmt(w), fmt(wo),
                                                ratio, added))
            if json_path:
                with open(json_path, "a") as f:
                    f.write(json.dumps(dict(row="data-check " + name,
                                            rcpts=rcpts, ms_with=w,
                                            ms_without=wo, ratio=ratio))
                            + "\n")
    print("ratio: a session with --data-check COMMAND against the same "
          "session without it (true: %s; field: %s, which adds a header "
          "field, so every copy is piped); 1.00x is no cost; \"added\" "
          "is the same for 1 and 10 recipients when the check costs once "
          "per message" % tuple(cmd for _, cmd in CHECKS))


JOBS_CMDS = [("sleep 50 ms", "sh -c 'sleep 0.05; cat >/dev/null'"),
             ("cat", "sh -c 'cat >/dev/null'")]


def print_jobs_rows(rounds, json_path, rcpts=100):
    """the --jobs rows: deliveries/s of one 1 KB message to 100
    recipients with --jobs 1, 2 and 8, each against --jobs 1 (medians;
    the variants alternate session by session)"""
    own = servers()[0][1]
    print("%-32s %12s %8s" % ("%d rcpts, deliveries/s" % rcpts, "rate",
                              "vs 1"))
    for name, cmd in JOBS_CMDS:
        times = {n: [] for n in (1, 2, 8)}
        for _ in range(rounds):
            for n in times:
                server = own.replace(" -- {DELIVER}",
                                     " --jobs %d -- {DELIVER}" % n)
                t0 = time.perf_counter()
                if small_session(server, rcpts=rcpts, deliver=cmd):
                    times[n].append(time.perf_counter() - t0)
        rate = {n: rcpts / median(t) if t else None
                for n, t in times.items()}
        for n in times:
            ratio = "%.2fx" % (rate[n] / rate[1]) if rate[n] and rate[1] \
                else "n/a"
            label = "%s, --jobs %d" % (name, n)
            print("%-32s %12s %8s" % (label, "-" if rate[n] is None else
                                      "%.1f" % rate[n], ratio))
            if json_path:
                with open(json_path, "a") as f:
                    f.write(json.dumps(dict(row="jobs " + label,
                                            per_s=rate[n], ratio=ratio))
                            + "\n")
    print("ratio: deliveries/s against --jobs 1 in the same run (%d cores)"
          % os.cpu_count())


TLS_MIB = 100
DELIVER = "sh -c 'cat >/dev/null'"
EXIM_CONF = """primary_hostname = bench.test
qualify_domain = bench.test
spool_directory = {dir}/spool
log_file_path = {dir}/log/%slog
keep_environment =
tls_advertise_hosts = *
tls_certificate = {dir}/cert.pem
tls_privatekey = {dir}/key.pem
message_size_limit = 0
acl_smtp_rcpt = accept
begin routers
all:
  driver = accept
  transport = command
begin transports
command:
  driver = pipe
  command = {deliver}
  user = {user}
begin retry
*  *  F,1h,10m
"""


def tls_servers(work):
    """pipesmtpd behind s6-ucspitlsd and Exim -bs, both with the
    certificate in WORK: (label, argv, extra environment) each, or None
    with the reason when one of them is missing"""
    launcher = os.environ.get("PBENCH_UCSPITLSD")
    if not launcher:
        launcher = os.path.join(TOP, "build-tls", "bin", "s6-ucspitlsd")
        if subprocess.run(["make", "-s", "-C", TOP, "tls-tools"],
                          stdout=subprocess.DEVNULL).returncode != 0:
            return None, "make tls-tools failed"
    exim = shutil.which("exim4") or shutil.which("exim")
    if not exim:
        return None, "no exim4"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-sha256", "-days", "2", "-subj",
                    "/CN=bench.test", "-keyout", work + "/key.pem", "-out",
                    work + "/cert.pem"], check=True, capture_output=True)
    for d in ("spool", "log"):
        os.mkdir(os.path.join(work, d))
    user = subprocess.run([exim, "-C", "/dev/null", "-bP", "exim_user"],
                          capture_output=True, text=True).stdout
    user = user.split("=", 1)[-1].strip() or "root"
    if os.geteuid() == 0:
        os.chmod(work, 0o755)
        os.chmod(work + "/key.pem", 0o644)
        for d in ("spool", "log"):
            shutil.chown(os.path.join(work, d), user)
    else:
        user = subprocess.run(["id", "-un"], capture_output=True,
                              text=True).stdout.strip()
    with open(work + "/exim.conf", "w") as f:
        f.write(EXIM_CONF.format(dir=work, deliver=DELIVER, user=user))
    env = dict(CERTFILE=work + "/cert.pem", KEYFILE=work + "/key.pem")
    own = [launcher, "-S", "--"] + expand(servers()[0][1], DELIVER)
    return [("pipesmtpd", own, env),
            ("exim", [exim, "-C", work + "/exim.conf", "-odi", "-bs"], {})], ""


def tls_session(argv, env, mib):
    """one MIB MiB message inside STARTTLS to the server ARGV on a
    socketpair; MiB/s from the first byte of the message to the server's
    exit after QUIT, or None if a reply was not the expected one"""
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(argv, stdin=theirs, stdout=theirs,
                            stderr=subprocess.DEVNULL,
                            env=dict(os.environ, **env))
    theirs.close()
    ours.settimeout(120)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    conn = ours
    f = conn.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if not line or line[3:4] != b"-":
                return line[:3]

    def talk(cmd, want):
        conn.sendall(cmd + b"\r\n")
        return reply() == want

    try:
        ok = reply() == b"220" and talk(b"EHLO bench.test", b"250") and \
            talk(b"STARTTLS", b"220")
        if not ok:
            return None
        conn = ctx.wrap_socket(ours)
        f = conn.makefile("rb")
        ok = talk(b"EHLO bench.test", b"250") and \
            talk(b"MAIL FROM:<a@bench.test>", b"250") and \
            talk(b"RCPT TO:<r@bench.test>", b"250") and \
            talk(b"DATA", b"354")
        if not ok:
            return None
        line = b"x" * 1022 + b"\r\n"
        chunk = line * 1024
        t0 = time.perf_counter()
        for _ in range(mib):
            conn.sendall(chunk)
        ok = talk(b".", b"250") and talk(b"QUIT", b"221")
        proc.wait(120)
        secs = time.perf_counter() - t0
    finally:
        conn.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return mib / secs if ok else None


def tls_row(rounds, json_path):
    """the STARTTLS row: MiB/s of pipesmtpd behind s6-ucspitlsd and of
    Exim -bs, rounds alternating, medians and their ratio"""
    work = tempfile.mkdtemp(prefix="pipesmtpd-bench-tls.")
    try:
        both, why = tls_servers(work)
        if not both:
            print("STARTTLS row skipped: %s" % why)
            return
        runs = {label: [] for label, _, _ in both}
        for _ in range(rounds):
            for label, argv, env in both:
                r = tls_session(argv, env, TLS_MIB)
                if r:
                    runs[label].append(r)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    got = {k: median(v) if v else None for k, v in runs.items()}
    ratio = "n/a"
    if got["pipesmtpd"] and got["exim"]:
        ratio = "%.2fx" % (got["pipesmtpd"] / got["exim"])
    fmt = lambda v: "-" if v is None else "%.1f" % v
    print("%-32s %12s %12s %8s" % ("", "pipesmtpd", "exim -bs", ""))
    print("%-32s %12s %12s %8s" % ("STARTTLS %d MiB, MiB/s" % TLS_MIB,
                                   fmt(got["pipesmtpd"]), fmt(got["exim"]),
                                   ratio))
    print("ratio: pipesmtpd behind s6-ucspitlsd against Exim 4 -bs with its "
          "own STARTTLS, same certificate, same run; above 1.00x is faster")
    if json_path:
        with open(json_path, "a") as f:
            f.write(json.dumps(dict(row="starttls-100MiB",
                                    pipesmtpd=got["pipesmtpd"],
                                    exim=got["exim"], ratio=ratio)) + "\n")


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5,
                    help="alternating rounds per row (median reported)")
    ap.add_argument("--big", action="store_true", help="add C with 1 GiB")
    ap.add_argument("--json", help="append every row as a JSON line here")
    ap.add_argument("--proxy", action="store_true",
                    help="only the --proxy-protocol row")
    ap.add_argument("--check", action="store_true",
                    help="only the --data-check rows")
    ap.add_argument("--jobs", action="store_true",
                    help="only the --jobs rows (100 recipients)")
    ap.add_argument("--tls", action="store_true",
                    help="only the STARTTLS row (pipesmtpd against Exim)")
    ap.add_argument("--growth", action="store_true",
                    help="instead: time and peak RSS against message size "
                    "(1 MiB to 1 GiB) and recipients (1 to 100)")
    args = ap.parse_args()
    if not os.access(os.path.join(TOP, "pipesmtpd"), os.X_OK):
        sys.exit("bench/run.py: build ./pipesmtpd first (make)")
    bench = yardstick()
    if args.growth:
        growth(bench, args.rounds)
        return
    if args.proxy:
        print_proxy_row(args.rounds, args.json)
        return
    if args.check:
        print_check_rows(args.rounds, args.json)
        return
    if args.tls:
        tls_row(args.rounds, args.json)
        return
    if args.jobs:
        print_jobs_rows(args.rounds, args.json)
        return
    rows = ROWS + (BIG if args.big else [])
    cache = {}
    print("%-32s %12s %12s %8s" % ("figure", "pipesmtpd", "ref-spool", "ratio"))
    for name, scen, extra, key, higher in rows:
        got = {}
        ck = (scen, tuple(extra))
        if ck not in cache:
            cache[ck] = {label: [] for label, _ in servers()}
            for _ in range(args.rounds):	# alternate the two systems
                for label, server in servers():
                    cache[ck][label].append(run_row(bench, label, server,
                                                    scen, extra))
        for label, _ in servers():
            vals = [m[key] for m in cache[ck][label] if m and key in m]
            got[label] = median(vals) if vals else None
        own, ref = got["pipesmtpd"], got["ref-spool"]
        scale = 1000.0 if key == "seconds" else 1.0
        if own is None or ref is None or own == 0 or ref == 0:
            ratio = "n/a"
        else:
            ratio = "%.2fx" % ((own / ref) if higher else (ref / own))
        fmt = lambda v: "-" if v is None else "%.1f" % (v * scale)
        print("%-32s %12s %12s %8s" % (name, fmt(own), fmt(ref), ratio))
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(dict(row=name, pipesmtpd=own, ref=ref,
                                        ratio=ratio)) + "\n")
    print("ratio: pipesmtpd against the floor in the same run; above 1.00x "
          "is better (for ms and RSS: the floor's figure over ours)")
    print()
    print_proxy_row(args.rounds, args.json)
    print()
    print_check_rows(args.rounds, args.json)
    print()
    print_jobs_rows(args.rounds, args.json)
    print()
    tls_row(args.rounds, args.json)


if __name__ == "__main__":
    main()
