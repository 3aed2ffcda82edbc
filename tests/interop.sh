#!/bin/sh
# interop.sh - real SMTP clients against the built ./pipesmtpd.
#
# swaks talks to pipesmtpd through --pipe (it runs the server and speaks
# on its stdin/stdout); Python's smtplib talks over a socketpair, the way
# inetd hands a connection over; Twisted's client (python3-twisted)
# connects over loopback TCP and pipesmtpd gets the accepted socket.
# Every delivery goes to tests/recorder, and each check compares what the
# command received with what was sent.
# Run from anywhere; `make check` runs it after the C suites.  Prints
# "interop: N passed, M failed" last and exits non-zero on any failure.
# A missing client is a failure naming the Debian package that has it.

cd "$(dirname "$0")/.." || exit 1

SUITE=interop
. tests/scriptlib.sh

BIN=./pipesmtpd
REC=./tests/recorder
if [ ! -x "$BIN" ] || [ ! -x "$REC" ]; then
	fail "build ./pipesmtpd and ./tests/recorder first (make check does)"
	finish
fi
make_tmp pipesmtpd-interop

ROOTOPT=
[ "$(id -u)" = 0 ] && ROOTOPT=--allow-root
LIMIT=
command -v timeout >/dev/null 2>&1 && LIMIT="timeout 120"

# server DIR [option ...] - the pipesmtpd command line for swaks --pipe
server() {
	dir=$1
	shift
	echo "$BIN --log-stderr --hostname mx.example $ROOTOPT $* --" \
	    "$REC $dir 2>>$dir.log"
}

# runs DIR - how many times the recorder ran in DIR
runs() {
	n=0
	while [ -d "$1/$((n + 1))" ]; do
		n=$((n + 1))
	done
	echo "$n"
}

# same_body DIR N EXPECTED - run N received EXPECTED after the headers
same_body() {
	strip "$1/$2/stdin" > "$1/$2/body" && cmp -s "$1/$2/body" "$3"
}

# report NAME STATUS - NAME.out, what a Python script printed: its
# "ok - " and "FAIL - " lines counted, the rest shown; the script's exit
# STATUS must be 0
report() {
	while IFS= read -r line; do
		case $line in
		"ok - "*) pass "${line#ok - }" ;;
		"FAIL - "*) fail "${line#FAIL - }" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done < "$tmp/$1.out"
	[ "$2" -eq 0 ] || fail "$1: the Python script exited $2"
}

# ---- swaks ----

if ! command -v swaks >/dev/null 2>&1; then
	fail "swaks not found: install the Debian package 'swaks'"
else
	# data as swaks sends it (its final "." line ends the DATA) and the
	# message the command must get
	cat > "$tmp/want" <<'EOF'
From: s@x.example
To: u@mx.example
Subject: interop

.a line with a leading dot
..two dots
plain line

last line
EOF
	{ cat "$tmp/want"; echo .; } > "$tmp/data"

	d="$tmp/plain"
	if $LIMIT swaks --pipe "$(server "$d")" --helo client.example \
	    --from s@x.example --to u@mx.example --data "@$tmp/data" \
	    > "$d.out" 2>&1 &&
	    [ "$(runs "$d")" = 1 ] && same_body "$d" 1 "$tmp/want" &&
	    [ "$(envof "$d" 1 RECIPIENT)" = u@mx.example ] &&
	    [ "$(envof "$d" 1 SENDER)" = s@x.example ] &&
	    head -n 1 "$d/1/stdin" | grep -q '^Return-Path: <s@x.example>$'
	then
		pass "swaks: a plain message"
	else
		fail "swaks: a plain message (see transcript below)"
		cat "$d.out" "$d.log" 2>/dev/null
	fi

	for mode in --pipeline --no-pipeline; do
		d="$tmp/multi$mode"
		ok=1
		$LIMIT swaks --pipe "$(server "$d")" $mode \
		    --helo client.example --from s@x.example \
		    --to a@mx.example,b@mx.example,C@MX.example \
		    --data "@$tmp/data" > "$d.out" 2>&1 || ok=0
		[ "$(runs "$d")" = 3 ] || ok=0
		for n in 1 2 3; do
			[ -d "$d/$n" ] && same_body "$d" "$n" "$tmp/want" || ok=0
		done
		[ "$(envof "$d" 3 RECIPIENT 2>/dev/null)" = C@mx.example ] || ok=0
		if [ "$mode" = --pipeline ]; then
			# the client really pipelined: RCPTs sent before the
			# MAIL reply came
			awk '/^ -> MAIL FROM/ { m = 1 } m && /^<-  250 2.1.0/ { exit }
			    m && /^ -> RCPT TO/ { found = 1 }
			    END { exit !found }' "$d.out" || ok=0
		fi
		if [ $ok = 1 ]; then
			pass "swaks $mode: three recipients"
		else
			fail "swaks $mode: three recipients"
			cat "$d.out" "$d.log" 2>/dev/null
		fi
	done

	d="$tmp/null"
	if $LIMIT swaks --pipe "$(server "$d" --null-sender MAILER-DAEMON)" \
	    --helo client.example --from '<>' --to u@mx.example \
	    --data "@$tmp/data" > "$d.out" 2>&1 &&
	    grep -q '^ -> MAIL FROM:<>' "$d.out" &&
	    [ "$(runs "$d")" = 1 ] && same_body "$d" 1 "$tmp/want" &&
	    [ "$(envof "$d" 1 SENDER)" = MAILER-DAEMON ] &&
	    head -n 1 "$d/1/stdin" | grep -q '^Return-Path: <>$'
	then
		pass "swaks: the null sender"
	else
		fail "swaks: the null sender"
		cat "$d.out" "$d.log" 2>/dev/null
	fi

	# a ~1 MB attachment of random octets, checked after MIME decoding
	head -c 1048576 /dev/urandom > "$tmp/attachment.bin"
	d="$tmp/attach"
	ok=1
	$LIMIT swaks --pipe "$(server "$d")" --pipeline --helo client.example \
	    --from s@x.example --to u@mx.example \
	    --attach "@$tmp/attachment.bin" > "$d.out" 2>&1 || ok=0
	[ "$(runs "$d")" = 1 ] || ok=0
	if [ $ok = 1 ] && command -v python3 >/dev/null 2>&1; then
		python3 - "$d/1/stdin" "$tmp/attachment.bin" <<'EOF' || ok=0
import email, sys
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'))
want = open(sys.argv[2], 'rb').read()
got = [p.get_payload(decode=True) for p in msg.walk()
       if p.get_filename() == 'attachment.bin']
sys.exit(0 if got == [want] else 1)
EOF
	elif [ $ok = 1 ]; then
		# without Python: at least the size is in the right range
		size=$(wc -c < "$d/1/stdin")
		[ "$size" -gt 1400000 ] || ok=0
	fi
	[ -f "$d/1/env" ] && [ "$(envof "$d" 1 SIZE)" = "$(wc -c < "$d/1/stdin" |
	    tr -d ' ')" ] || ok=0
	if [ $ok = 1 ]; then
		pass "swaks: a 1 MB attachment arrives intact"
	else
		fail "swaks: a 1 MB attachment arrives intact"
		tail -n 20 "$d.out"
		cat "$d.log" 2>/dev/null
	fi

	# too large for --max-size: refused, nothing delivered
	d="$tmp/toolarge"
	$LIMIT swaks --pipe "$(server "$d" --max-size 100000)" \
	    --helo client.example --from s@x.example --to u@mx.example \
	    --attach "@$tmp/attachment.bin" > "$d.out" 2>&1
	if grep -q '^<\*\* *552 5\.3\.4' "$d.out" && [ "$(runs "$d")" = 0 ]
	then
		pass "swaks: a message over --max-size gets 552 5.3.4"
	else
		fail "swaks: a message over --max-size gets 552 5.3.4"
		tail -n 20 "$d.out"
	fi

	# a temporary failure reaches swaks as 451
	d="$tmp/tempfail"
	$LIMIT swaks --pipe "$(server "$d")" --helo client.example \
	    --from s@x.example --to exit75@mx.example \
	    --data "@$tmp/data" > "$d.out" 2>&1
	if grep -q '^<\*\* *451 4\.3\.0' "$d.out" && [ "$(runs "$d")" = 1 ]
	then
		pass "swaks: exit 75 gives 451 4.3.0"
	else
		fail "swaks: exit 75 gives 451 4.3.0"
		tail -n 20 "$d.out"
	fi
fi

# ---- Python smtplib over a socketpair ----

PY=
for p in /usr/bin/python3 python3; do
	if command -v "$p" >/dev/null 2>&1; then
		PY=$p
		break
	fi
done

if [ -z "$PY" ]; then
	fail "python3 not found: install the Debian package 'python3'"
	finish
fi

cat > "$tmp/smtplib_test.py" <<'EOF'
# smtplib against pipesmtpd on one end of a socketpair; one line per
# check: "ok - NAME" or "FAIL - NAME: why"
import email.message, email.policy, os, smtplib, socket, subprocess, sys

BIN, REC, TMP, ROOTOPT = sys.argv[1:5]


def session(name, extra=()):
    """pipesmtpd on a socketpair; an smtplib.SMTP on the other end"""
    d = os.path.join(TMP, name)
    ours, theirs = socket.socketpair()
    args = [BIN, '--log-stderr', '--hostname', 'mx.example']
    args += [ROOTOPT] if ROOTOPT else []
    args += list(extra) + ['--', REC, d]
    log = open(d + '.log', 'wb')
    proc = subprocess.Popen(args, stdin=theirs.fileno(),
                            stdout=theirs.fileno(), stderr=log,
                            pass_fds=(theirs.fileno(),))
    theirs.close()
    ours.settimeout(60)
    s = smtplib.SMTP()
    s.sock = ours
    code, text = s.getreply()
    if code != 220 or not text.startswith(b'mx.example ESMTP pipesmtpd'):
        raise AssertionError('greeting %d %r' % (code, text))
    return s, proc, d


def close(s, proc):
    try:
        s.quit()
    finally:
        s.close()
    if proc.wait(timeout=30) != 0:
        raise AssertionError('pipesmtpd exited %d' % proc.returncode)


def record(d, n, name):
    with open(os.path.join(d, str(n), name), 'rb') as f:
        return f.read()


def env(d, n):
    return dict(e.split(b'=', 1) for e in record(d, n, 'env').split(b'\0')
                if e)


def body(d, n):
    """the message after the headers pipesmtpd added"""
    lines = record(d, n, 'stdin').split(b'\n')
    i = 0
    if lines[i].startswith(b'Return-Path:'):
        i += 1
    if lines[i].startswith(b'Received:'):
        i += 1
        while lines[i][:1] in (b' ', b'\t'):
            i += 1
    return b'\n'.join(lines[i:])


def runs(d):
    n = 0
    while os.path.isdir(os.path.join(d, str(n + 1))):
        n += 1
    return n


def check(name, fn):
    try:
        fn()
        print('ok - smtplib: ' + name)
    except Exception as e:  # report and go on
        print('FAIL - smtplib: %s: %s: %s' % (name, type(e).__name__, e))


def t_sendmail():
    s, proc, d = session('sendmail')
    code, text = s.ehlo('client.example')
    assert code == 250, (code, text)
    for ext in ('pipelining', 'size', '8bitmime', 'enhancedstatuscodes',
                'smtputf8', 'chunking', 'limits', 'prdr'):
        assert s.has_extn(ext), 'EHLO lacks ' + ext
    assert s.esmtp_features['size'] == '10485760', s.esmtp_features
    assert s.esmtp_features['limits'] == 'RCPTMAX=100', s.esmtp_features
    msg = (b'From: s@x.example\r\nTo: u@mx.example\r\nSubject: t\r\n\r\n'
           b'.dot\r\nline\r\n..\r\nend\r\n')
    refused = s.sendmail('s@x.example', ['u@mx.example', 'v@mx.example'],
                         msg)
    assert refused == {}, refused
    close(s, proc)
    assert runs(d) == 2, runs(d)
    want = msg.replace(b'\r\n', b'\n')
    for n in (1, 2):
        assert body(d, n) == want, body(d, n)
        assert env(d, n)[b'SIZE'] == str(len(record(d, n, 'stdin'))).encode()
    assert env(d, 2)[b'RECIPIENT'] == b'v@mx.example'


def t_smtputf8():
    s, proc, d = session('utf8')
    s.ehlo('client.example')
    msg = ('From: jörg@x.example\r\nTo: åsa@mx.example\r\n'
           'Subject: grüße\r\n\r\nKäse\r\n').encode('utf-8')
    refused = s.sendmail('jörg@x.example', ['åsa@mx.example'], msg,
                         mail_options=['SMTPUTF8'])
    assert refused == {}, refused
    close(s, proc)
    assert runs(d) == 1
    e = env(d, 1)
    assert e[b'RECIPIENT'] == 'åsa@mx.example'.encode(), e[b'RECIPIENT']
    assert e[b'SENDER'] == 'jörg@x.example'.encode(), e[b'SENDER']
    assert body(d, 1) == msg.replace(b'\r\n', b'\n')
    stdin = record(d, 1, 'stdin')
    assert b' with UTF8SMTP id ' in stdin, stdin[:300]


def t_send_message():
    s, proc, d = session('send_message', ['--crlf'])
    s.ehlo('client.example')
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m['From'] = 'Sender <s@x.example>'
    m['To'] = 'User <u@mx.example>, Other <o@mx.example>'
    m['Subject'] = 'send_message'
    m.set_content('first\n.second starts with a dot\n.\nthird\n')
    refused = s.send_message(m)
    assert refused == {}, refused
    close(s, proc)
    assert runs(d) == 2, runs(d)
    want = m.as_bytes()
    for n in (1, 2):
        assert body(d, n) == want, (body(d, n), want)
        assert b'\n' not in record(d, n, 'stdin').replace(b'\r\n', b'')


def t_refusals():
    s, proc, d = session('refusals')
    s.ehlo('client.example')
    try:
        s.sendmail('s@x.example', ['x@other.example'], b'Subject: x\r\n\r\n')
        raise AssertionError('relay accepted')
    except smtplib.SMTPRecipientsRefused as e:
        code, text = e.recipients['x@other.example']
        assert code == 550 and text.startswith(b'5.7.1'), (code, text)
    refused = s.sendmail('s@x.example', ['u@mx.example', 'a/b@mx.example'],
                         b'Subject: x\r\n\r\nbody\r\n')
    assert list(refused) == ['a/b@mx.example'], refused
    assert refused['a/b@mx.example'][0] == 550
    try:
        s.sendmail('s@x.example', ['exit75@mx.example'], b'Subject: x\r\n\r\n')
        raise AssertionError('exit 75 accepted')
    except smtplib.SMTPDataError as e:
        assert e.smtp_code == 451 and e.smtp_error.startswith(b'4.3.0'), e
    try:
        s.sendmail('s@x.example', ['exit67@mx.example'], b'Subject: x\r\n\r\n')
        raise AssertionError('exit 67 accepted')
    except smtplib.SMTPDataError as e:
        assert e.smtp_code == 554 and e.smtp_error.startswith(b'5.1.1'), e
    close(s, proc)
    assert runs(d) == 3, runs(d)
    assert env(d, 1)[b'RECIPIENT'] == b'u@mx.example'


for name, fn in (('sendmail to two recipients', t_sendmail),
                 ('sendmail with SMTPUTF8', t_smtputf8),
                 ('send_message with --crlf', t_send_message),
                 ('refusals and failures', t_refusals)):
    check(name, fn)
EOF

$LIMIT "$PY" "$tmp/smtplib_test.py" "$BIN" "$REC" "$tmp" "$ROOTOPT" \
    > "$tmp/smtplib.out" 2>&1
report smtplib $?

# ---- Twisted's SMTP client over loopback TCP ----

if ! "$PY" -c 'import twisted.mail.smtp' >/dev/null 2>&1; then
	fail "Twisted not found for $PY: install the Debian package 'python3-twisted'"
	finish
fi

cat > "$tmp/twisted_test.py" <<'EOF'
# twisted.mail.smtp.sendmail against pipesmtpd started on each accepted
# loopback TCP connection, the way inetd hands one over; one line per
# check: "ok - NAME" or "FAIL - NAME: why".
#
# Twisted's client turns every LF of the message into CRLF, so a message
# given with CRLF line ends goes out with CR CR LF: that must still be one
# line end each, or the header block ends after its first line.
import os, socket, subprocess, sys, threading
from twisted.internet import reactor
from twisted.mail import smtp

BIN, REC, TMP, ROOTOPT = sys.argv[1:5]
d = os.path.join(TMP, 'twisted')
HEADERS = [b'From: Sender <s@x.example>', b'To: User <u@mx.example>',
           b'Subject: twisted interop', b'Date: Sat, 5 Dec 2026 06:00:00 +0000',
           b'Message-ID: <twisted.1@x.example>', b'MIME-Version: 1.0',
           b'Content-Type: text/plain; charset=us-ascii']
BODY = [b'first body line', b'.a line with a leading dot', b'', b'last line']
MSG = b''.join(l + b'\r\n' for l in HEADERS + [b''] + BODY)

lsock = socket.socket()
lsock.bind(('127.0.0.1', 0))
lsock.listen(5)
lsock.settimeout(0.2)
stop = threading.Event()
sessions = []


def serve():
    """pipesmtpd on every connection until told to stop (Twisted's
    factory would reconnect after a failure: each try is counted)"""
    args = [BIN, '--log-stderr', '--hostname', 'mx.example']
    args += [ROOTOPT] if ROOTOPT else []
    args += ['--', REC, d]
    with open(d + '.log', 'ab') as log:
        while not stop.is_set():
            try:
                conn, _ = lsock.accept()
            except socket.timeout:
                continue
            conn.settimeout(None)
            proc = subprocess.Popen(args, stdin=conn.fileno(),
                                    stdout=conn.fileno(), stderr=log)
            conn.close()
            sessions.append(proc)


def check(name, ok, why):
    print(('ok - twisted: %s' % name) if ok else
          ('FAIL - twisted: %s: %s' % (name, why)))


server = threading.Thread(target=serve, daemon=True)
server.start()
result = {}
dfr = smtp.sendmail('127.0.0.1', 's@x.example', ['u@mx.example'], MSG,
                    senderDomainName='client.example',
                    port=lsock.getsockname()[1])
dfr.addBoth(lambda r: result.setdefault('r', r))
dfr.addBoth(lambda _: reactor.stop())
reactor.callLater(60, reactor.stop)
reactor.run()
stop.set()
server.join(10)
codes = [p.wait(timeout=30) for p in sessions]

r = result.get('r')
check('sendmail to one recipient: accepted in one session',
      isinstance(r, tuple) and r[0] == 1 and r[1][0][1] == 250 and
      codes == [0], 'result %r, pipesmtpd exit codes %r' % (r, codes))

runs = 0
while os.path.isdir(os.path.join(d, str(runs + 1))):
    runs += 1
got = b''
if runs >= 1:
    with open(os.path.join(d, '1', 'stdin'), 'rb') as f:
        got = f.read()
check('one delivery', runs == 1, '%d runs of the command' % runs)

# the message after pipesmtpd's Return-Path and Received
lines = got.split(b'\n')
i = 1 if lines[0].startswith(b'Return-Path:') else 0
if lines[i].startswith(b'Received:'):
    i += 1
    while lines[i][:1] in (b' ', b'\t'):
        i += 1
msg = b'\n'.join(lines[i:])
head, _, body = msg.partition(b'\n\n')
check('a CRLF message (sent as CR CR LF) keeps its header block whole',
      head.split(b'\n') == HEADERS,
      'headers before the first empty line: %r' % head.split(b'\n'))
check('the message arrives as sent, with LF line ends',
      msg == MSG.replace(b'\r\n', b'\n'), 'delivered %r' % msg[:400])
EOF

$LIMIT "$PY" "$tmp/twisted_test.py" "$BIN" "$REC" "$tmp" "$ROOTOPT" \
    > "$tmp/twisted.out" 2>&1
report twisted $?

finish
