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

CORE_OBJS = config.o session.o fdio.o deadline.o deliver.o run.o received.o \
	recipients.o address.o data.o spool.o log.o
OBJS = smtpd.o $(CORE_OBJS)
HDRS = config.h session.h fdio.h deadline.h deliver.h run.h received.h \
	recipients.h address.h data.h spool.h log.h

UNIT_SRCS = $(wildcard tests/unit_*.c) tests/support.c
E2E_SRCS = $(wildcard tests/e2e_*.c) tests/harness.c tests/harness_txn.c
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check)
CORE_SRCS = $(CORE_OBJS:.o=.c)
FUZZ_TARGETS = tests/fuzz/fuzz_address tests/fuzz/fuzz_data \
	tests/fuzz/fuzz_session

all: pipesmtpd

pipesmtpd: $(OBJS)
	$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $(OBJS)

%.o: %.c $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(XCFLAGS) -c -o $@ $<

tests/unit: $(UNIT_SRCS) $(CORE_OBJS) tests/unit.h tests/support.h $(HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(XCFLAGS) $(CHECK_CFLAGS) -I. -o $@ $(UNIT_SRCS) \
		$(CORE_OBJS) $(XLDFLAGS) $(LDFLAGS) $(CHECK_LIBS)

tests/e2e: $(E2E_SRCS) tests/harness.h
	$(CC) $(CPPFLAGS) $(CFLAGS) $(XCFLAGS) $(CHECK_CFLAGS) -I. -o $@ $(E2E_SRCS) \
		$(XLDFLAGS) $(LDFLAGS) $(CHECK_LIBS)

tests/recorder: tests/recorder.c
	$(CC) $(CFLAGS) $(XCFLAGS) -o $@ tests/recorder.c $(XLDFLAGS) $(LDFLAGS)

check: pipesmtpd tests/unit tests/e2e tests/recorder
	./tests/unit
	./tests/e2e
	sh tests/interop.sh
	sh tests/interop_lmtp.sh
	sh tests/interop_exim.sh
	sh tests/interop_postfix.sh

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
		--exclude=./build-valgrind . | tar -xf - -C $(1)
	$(MAKE) -C $(1) clean
endef

# The same suite built with clang's AddressSanitizer and UBSan.
check-san:
	$(call copy_tree,build-san)
	$(MAKE) -C build-san check CC=clang CFLAGS="-O1 -g" \
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
	$(MAKE) -C build-valgrind pipesmtpd tests/e2e tests/recorder
	cd build-valgrind && PIPESMTPD_WRAPPER="$(VALGRIND)" \
		PIPESMTPD_BOUND_SCALE=$(VALGRIND_BOUND) \
		CK_TIMEOUT_MULTIPLIER=$(VALGRIND_BOUND) ./tests/e2e

# libFuzzer targets (clang's fuzzer runtime, with ASan and UBSan); built
# from the sources, not the objects, so no other build flags leak in.
fuzz: $(FUZZ_TARGETS)

tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(CORE_SRCS) $(HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -std=c11 -D_GNU_SOURCE $(WARN) $(FUZZ_SAN) \
		-I. -o $@ $(filter %.c,$^)

# The session target drives session_run() through the shared test support.
tests/fuzz/fuzz_session: tests/support.c tests/support.h

# Each target for FUZZ_SECONDS on a copy of its seed corpus; any crash,
# leak, timeout or sanitizer report fails.
fuzz-run: fuzz
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for t in address data session; do \
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

# examples/ is installed whole, subdirectories (fail2ban/) included.
install: pipesmtpd
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 755 pipesmtpd $(DESTDIR)$(SBINDIR)/pipesmtpd
	$(INSTALL) -m 644 pipesmtpd.8 $(DESTDIR)$(MANDIR)/man8/pipesmtpd.8
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
	rm -f pipesmtpd *.o tests/unit tests/e2e tests/recorder $(FUZZ_TARGETS)
	rm -rf build-san build-valgrind

.PHONY: all check check-deploy check-san check-valgrind fuzz fuzz-run \
	bench demo install uninstall clean
