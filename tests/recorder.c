/*
 * recorder.c - a delivery command for the end-to-end tests.
 *
 * Usage: recorder DIR [arg ...]
 *
 * Each run claims the next free numbered directory DIR/1, DIR/2, ...
 * (with mkdir, so concurrent runs never collide; DIR itself is created
 * if missing) and writes there what it was given:
 *
 *   argv   every argv entry, each NUL-terminated
 *   env    the whole environment, each entry NUL-terminated
 *   fds    the names in /proc/self/fd, one a line (not the listing's own)
 *   ids    "uid N", "gid N", "groups N N ..." lines
 *   stdin  every byte of stdin (unless the mode says not to read it)
 *
 * What it then does is chosen by the local part of $RECIPIENT (by
 * prefix), so one transaction can mix outcomes:
 *
 *   exitN    read stdin, record, exit N
 *   dsnN     record, print "5.2.2 mailbox full" (or "4.2.2 try later"
 *            for N = 75 or 71) on stdout, exit N
 *   crash    record, then die by SIGSEGV (no core file)
 *   sleep    record, fork a grandchild that sleeps (its pid goes to
 *            DIR/N/grandchild), then sleep 30 s
 *   noread   record all but stdin, exit 0 without reading it
 *   spew     4 MB to stdout, 4 MB to stderr, then read stdin, exit 0
 *   bgchild  record all but stdin; a child keeps stdout/stderr open and
 *            sleeps 20 s while the parent exits 0 at once
 *   other    read stdin, record, exit 0
 *
 * It never writes outside DIR and never runs anything.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

extern char **environ;

static char rundir[PATH_MAX];	/* DIR/N of this run */

/* die - a recorder failure: exit 70 so a test sees it */
static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "recorder: %s: %s\n", what, strerror(errno));
	exit(70);
}

/* write_all - the whole buffer, or die */
static void
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write");
		p += n;
		len -= (size_t)n;
	}
}

/* create - open DIR/N/name for writing */
static int
create(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", rundir, name) >=
	    (int)sizeof(path))
		die("path too long");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	return fd;
}

/* put_file - a whole file from a buffer */
static void
put_file(const char *name, const void *buf, size_t len)
{
	int fd = create(name);

	write_all(fd, buf, len);
	if (close(fd) == -1)
		die("close");
}

/* put_strings - NUL-terminated strings into one file */
static void
put_strings(const char *name, char *const *v, int n)
{
	int fd = create(name), i;

	for (i = 0; n < 0 ? v[i] != NULL : i < n; i++)
		write_all(fd, v[i], strlen(v[i]) + 1);
	if (close(fd) == -1)
		die("close");
}

/* claim - the next free DIR/N */
static void
claim(const char *dir)
{
	unsigned n;

	if (mkdir(dir, 0777) == -1 && errno != EEXIST)
		die(dir);
	for (n = 1; n < 100000; n++) {
		snprintf(rundir, sizeof(rundir), "%s/%u", dir, n);
		if (mkdir(rundir, 0755) == 0)
			return;
		if (errno != EEXIST)
			die(rundir);
	}
	errno = ENOSPC;
	die("too many runs");
}

/* list_fds - /proc/self/fd before this program opens anything */
static size_t
list_fds(char *out, size_t cap)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	size_t o = 0;
	int self;

	if (d == NULL)
		die("/proc/self/fd");
	self = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		int len;

		if (e->d_name[0] == '.' || atoi(e->d_name) == self)
			continue;
		len = snprintf(out + o, cap - o, "%s\n", e->d_name);
		if (len < 0 || (size_t)len >= cap - o)
			break;
		o += (size_t)len;
	}
	closedir(d);
	return o;
}

/* put_ids - uid, gid and supplementary groups */
static void
put_ids(void)
{
	gid_t groups[256];
	char buf[4096];
	int n = getgroups(256, groups), i;
	size_t o;

	o = (size_t)snprintf(buf, sizeof(buf), "uid %u\neuid %u\ngid %u\n"
	    "egid %u\ngroups", (unsigned)getuid(), (unsigned)geteuid(),
	    (unsigned)getgid(), (unsigned)getegid());
	for (i = 0; i < n && o + 16 < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, " %u",
		    (unsigned)groups[i]);
	buf[o++] = '\n';
	put_file("ids", buf, o);
}

/* put_stdin - every byte of stdin */
static void
put_stdin(void)
{
	static char buf[65536];
	int fd = create("stdin");

	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read stdin");
		if (n == 0)
			break;
		write_all(fd, buf, (size_t)n);
	}
	if (close(fd) == -1)
		die("close");
}

/* local_part - $RECIPIENT up to its last '@' */
static void
local_part(char *out, size_t cap)
{
	const char *r = getenv("RECIPIENT"), *at;
	size_t n;

	if (r == NULL)
		r = "";
	at = strrchr(r, '@');
	n = at != NULL ? (size_t)(at - r) : strlen(r);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, r, n);
	out[n] = '\0';
}

/* spew - 4 MB to a descriptor; a closed pipe ends it quietly */
static void
spew(int fd)
{
	static char buf[65536];
	int i;

	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 64; i++)
		if (write(fd, buf, sizeof(buf)) < 0 && errno != EINTR)
			return;
}

/* mode_sleep - a grandchild in our process group, then a long sleep */
static void
mode_sleep(void)
{
	char pid[32], tmp[PATH_MAX + 32], path[PATH_MAX + 32];
	pid_t child = fork();
	int fd;

	if (child < 0)
		die("fork");
	if (child == 0) {
		sleep(30);
		_exit(0);
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)child);
	snprintf(tmp, sizeof(tmp), "%s/grandchild.tmp", rundir);
	snprintf(path, sizeof(path), "%s/grandchild", rundir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(tmp);
	write_all(fd, pid, strlen(pid));
	close(fd);
	if (rename(tmp, path) == -1)
		die("rename");
	sleep(30);
	exit(0);
}

/* mode_bgchild - a child holds stdout/stderr; the parent returns */
static void
mode_bgchild(void)
{
	pid_t child = fork();

	if (child < 0)
		die("fork");
	if (child == 0) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd >= 0 && fd != 0) {
			dup2(fd, 0);
			close(fd);
		}
		sleep(20);
		_exit(0);
	}
	exit(0);
}

int
main(int argc, char **argv)
{
	static char fds[8192];
	size_t fdlen = list_fds(fds, sizeof(fds));
	char local[256];
	struct rlimit none = { 0, 0 };

	if (argc < 2) {
		fputs("usage: recorder DIR [arg ...]\n", stderr);
		return 64;
	}
	claim(argv[1]);
	put_file("fds", fds, fdlen);
	put_strings("argv", argv, argc);
	put_strings("env", environ, -1);
	put_ids();
	local_part(local, sizeof(local));

	if (strncmp(local, "noread", 6) == 0)
		return 0;
	if (strncmp(local, "bgchild", 7) == 0)
		mode_bgchild();
	if (strncmp(local, "spew", 4) == 0) {
		spew(1);
		spew(2);
	}
	put_stdin();
	if (strncmp(local, "exit", 4) == 0)
		return atoi(local + 4) & 255;
	if (strncmp(local, "dsn", 3) == 0) {
		int n = atoi(local + 3);

		fputs(n == 75 || n == 71 ? "4.2.2 try later\n" :
		    "5.2.2 mailbox full\n", stdout);
		fflush(stdout);
		return n & 255;
	}
	if (strncmp(local, "crash", 5) == 0) {
		setrlimit(RLIMIT_CORE, &none);
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		kill(getpid(), SIGKILL);
	}
	if (strncmp(local, "sleep", 5) == 0)
		mode_sleep();
	return 0;
}
