# pipesmtpd - one SMTP/LMTP session on stdin/stdout, delivered by command.
# Every knob is ?= so packagers can override it; install honours DESTDIR.

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/pipesmtpd
CC ?= cc
CFLAGS ?= -O2 -g
CPPFLAGS ?=
LDFLAGS ?=
PKG_CONFIG ?= pkg-config
INSTALL ?= install
FUZZ_CC ?= clang
FUZZ_CFLAGS ?= -O1 -g
FUZZ_SAN ?= -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?= -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2
VALGRIND ?= valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --track-fds=no -q
VALGRIND_BOUND ?= 10

WARN = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2
XCFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(SANFLAGS)
XLDFLAGS = $(SANFLAGS)

CORE_OBJS = config.o aliases.o authres.o session.o chat.o outcome.o envelope.o fdio.o tls.o proxy.o deadline.o deliver.o \
	reject.o intake.o finish.o \
	command.o jobs.o checks.o \
	accept.o \
	account.o run.o received.o recipients.o address.o data.o spool.o log.o
OBJS = smtpd.o $(CORE_OBJS)
HDRS = config.h aliases.h authres.h session.h chat.h outcome.h envelope.h fdio.h tls.h proxy.h deadline.h deliver.h \
	reject.h intake.h finish.h deliverer.h \
	command.h jobs.h checks.h \
	accept.h \
	account.h run.h \
	received.h recipients.h address.h data.h spool.h log.h

UNIT_SRCS = $(wildcard tests/unit_*.c) tests/support.c
E2E_SRCS = $(wildcard tests/e2e_*.c) tests/harness.c tests/harness_txn.c
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check)
CORE_SRCS = $(CORE_OBJS:.o=.c)
FUZZ_TARGETS = tests/fuzz/fuzz_address tests/fuzz/fuzz_data \
	tests/fuzz/fuzz_session tests/fuzz/fuzz_proxy

all: pipesmtpd

pipesmtpd: $(OBJS)
	$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $(OBJS)

%.o: %.c $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(XCFLAGS) -c -o $@ $<

# The unit tests wrap calloc() (tests/unit_session.c's __wrap_calloc), so
# that a test can make one of ours fail.
UNIT_WRAP = -Wl,--wrap=calloc

tests/unit: $(UNIT_SRCS) $(CORE_OBJS) tests/unit.h tests/support.h $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(XCFLAGS) $(CHECK_CFLAGS) -I. -o $@ $(UNIT_SRCS) \
		$(CORE_OBJS) $(XLDFLAGS) $(UNIT_WRAP) $(LDFLAGS) $(CHECK_LIBS)

tests/e2e: $(E2E_SRCS) tests/harness.h
	$(CC) $(CPPFLAGS) $(CFLAGS) $(XCFLAGS) $(CHECK_CFLAGS) -I. -o $@ $(E2E_SRCS) \
		$(XLDFLAGS) $(LDFLAGS) $(CHECK_LIBS)

# The end-to-end suite's helpers: a delivery command that records what it
# got, a UCSPI-TLS launcher without the cryptography, and an account
# directory that fails (preloaded; built without sanitizers, as a library
# the sanitized server loads).
E2E_TOOLS = tests/recorder tests/nulltls tests/nssfail.so

tests/recorder tests/nulltls: %: %.c
	$(CC) $(CFLAGS) $(XCFLAGS) -o $@ $< $(XLDFLAGS) $(LDFLAGS)

tests/nssfail.so: tests/nssfail.c
	$(CC) $(CFLAGS) -std=c11 -D_GNU_SOURCE $(WARN) -shared -fPIC -o $@ $< \
		$(LDFLAGS) -ldl

check: pipesmtpd tests/unit tests/e2e $(E2E_TOOLS)
	./tests/unit
	./tests/e2e
	sh tests/interop.sh
	sh tests/interop_lmtp.sh
	sh tests/interop_exim.sh
	sh tests/interop_postfix.sh
	sh tests/interop_haproxy.sh
	sh tests/interop_tls.sh

# The UCSPI-TLS launcher (s6-tcpserver, s6-ucspitlsd and its engine
# s6-tlsd-io) built from third_party/ for tests/interop_tls.sh, which
# runs this target itself so that missing Debian packages are reported
# (or skipped under PIPESMTPD_DEV=1) like any other missing tool.  The
# programs remember TLS_DIR: it must be absolute.
TLS_DIR ?= $(CURDIR)/build-tls
TLS_SRCS = third_party/build-tls.sh third_party/SHA256SUMS \
	$(wildcard third_party/*.tar.gz third_party/patches/*.patch)

tls-tools: $(TLS_DIR)/bin/s6-ucspitlsd

$(TLS_DIR)/bin/s6-ucspitlsd: $(TLS_SRCS)
	sh third_party/build-tls.sh $(TLS_DIR)/bin

# Deployment tests (root): real launchers (systemd-socket-activate, xinetd,
# openbsd-inetd, tcpserver), real clients and real delivery agents on
# loopback; make install into temporary DESTDIRs; the examples.  Every
# script runs even if an earlier one fails.  PIPESMTPD_DEV=1 turns a
# missing tool into SKIP instead of FAIL.
check-deploy: pipesmtpd
	@rc=0; for t in tests/deploy_*.sh; do \
		echo "== $$t"; sh $$t || rc=1; \
	done; exit $$rc

# check-san and check-valgrind build in a copy of the tree (build-san/,
# build-valgrind/), so the build here is left as it is: the copy has the
# same layout, so every test finds ./pipesmtpd and ./tests/recorder from
# its root as it does here.  Each run starts from a fresh copy.
define copy_tree
	rm -rf $(1)
	mkdir $(1)
	tar -cf - --exclude=./.git --exclude=./build-san \
		--exclude=./build-valgrind --exclude=./build-tls . | \
		tar -xf - -C $(1)
	$(MAKE) -C $(1) clean
endef

# The same suite built with clang's AddressSanitizer and UBSan.
check-san:
	$(call copy_tree,build-san)
	$(MAKE) -C build-san check CC=clang CFLAGS="-O1 -g" TLS_DIR=$(TLS_DIR) \
		SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

# Figures against the shared yardstick's floor (needs ../shared/bench).
bench: pipesmtpd
	python3 bench/run.py

# The end-to-end suite with the server under valgrind's memcheck: any
# memory error or definite leak makes the server exit 99, which fails the
# test that started it.  Sessions get VALGRIND_BOUND times the usual time
# bounds.  Built afresh in its own copy: a sanitizer build cannot run
# under valgrind.
check-valgrind:
	$(call copy_tree,build-valgrind)
	$(MAKE) -C build-valgrind pipesmtpd tests/e2e $(E2E_TOOLS)
	cd build-valgrind && PIPESMTPD_WRAPPER="$(VALGRIND)" \
		PIPESMTPD_BOUND_SCALE=$(VALGRIND_BOUND) \
		CK_TIMEOUT_MULTIPLIER=$(VALGRIND_BOUND) ./tests/e2e

# libFuzzer targets (clang's fuzzer runtime, with ASan and UBSan); built
# from the sources, not the objects, so no other build flags leak in.
fuzz: $(FUZZ_TARGETS)

tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(CORE_SRCS) $(HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -std=c11 -D_GNU_SOURCE $(WARN) $(FUZZ_SAN) \
		-I. -o $@ $(filter %.c,$^)

# The session target drives session_run() through the shared test support.
tests/fuzz/fuzz_session: tests/support.c tests/support.h

# Each target for FUZZ_SECONDS on a copy of its seed corpus; any crash,
# leak, timeout or sanitizer report fails.
fuzz-run: fuzz
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for t in address data session proxy; do \
		mkdir "$$tmp/corpus_$$t" "$$tmp/art_$$t"; \
		cp tests/fuzz/corpus_$$t/* "$$tmp/corpus_$$t/"; \
		echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
		./tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			$(FUZZ_FLAGS) -artifact_prefix="$$tmp/art_$$t/" \
			-print_final_stats=1 "$$tmp/corpus_$$t" || \
			{ echo "fuzz_$$t failed; input:"; \
			  ls "$$tmp/art_$$t"; \
			  cp "$$tmp/art_$$t"/* tests/fuzz/ 2>/dev/null; \
			  exit 1; }; \
	done

demo: pipesmtpd
	sh examples/demo.sh

# examples/ is installed whole, subdirectories (fail2ban/) included; the
# guides go to doc/ beside README.md, so the README's links hold there.
GUIDES = $(wildcard doc/*.md)

install: pipesmtpd
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)/doc
	$(INSTALL) -m 755 pipesmtpd $(DESTDIR)$(SBINDIR)/pipesmtpd
	$(INSTALL) -m 644 pipesmtpd.8 $(DESTDIR)$(MANDIR)/man8/pipesmtpd.8
	$(INSTALL) -m 644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(INSTALL) -m 644 $(GUIDES) $(DESTDIR)$(DOCDIR)/doc
	for d in $$(cd examples && find . -type d); do \
		$(INSTALL) -d "$(DESTDIR)$(DOCDIR)/examples/$$d" || exit 1; \
	done
	for f in $$(cd examples && find . -type f); do \
		$(INSTALL) -m 644 "examples/$$f" \
			"$(DESTDIR)$(DOCDIR)/examples/$$f" || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/pipesmtpd $(DESTDIR)$(MANDIR)/man8/pipesmtpd.8
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -f pipesmtpd *.o tests/unit tests/e2e $(E2E_TOOLS) $(FUZZ_TARGETS)
	rm -rf build-san build-valgrind build-tls

.PHONY: all check check-deploy check-san check-valgrind fuzz fuzz-run \
	bench demo install uninstall clean tls-tools
