#!/usr/bin/env python3
"""systemd_sandbox.py - run a command in the file-system sandbox that a
systemd service unit (with its drop-ins) gives its processes, where no
systemd runs (a container, a CI job).  For the deploy tests.

    unshare -m --propagation private python3 tests/systemd_sandbox.py \\
        [--argv-json FILE] UNIT [DROP-IN ...] -- COMMAND [ARG ...]

It must run in a new mount namespace of its own (unshare -m) as root.
The unit's [Service] settings are read as systemd reads them (a later
assignment replaces a single value; list settings append, an empty
assignment empties the list) and the mounts are made as systemd 252's
src/core/namespace.c makes them for ProtectSystem= (yes, full, strict),
ProtectHome= (yes, read-only), ReadWritePaths=, ReadOnlyPaths=,
InaccessiblePaths= and PrivateTmp=: one entry per path, sorted by path;
for the same path the more restrictive mode wins (inaccessible, private
tmp, read-only, read-write, then the read-write paths ProtectSystem=
strict leaves to other settings: /proc, /sys, /dev, /home, /run/user,
/root); every entry but a read-only one becomes a mount point, then each
read-only entry is made read-only with every mount below it except those
of other entries.  A "-" before a path: ignored if missing.  Settings
that would change what may be written in a way not emulated here
(BindPaths=, TemporaryFileSystem=, RootDirectory=, ProtectHome=tmpfs ...)
are refused (exit 2), never ignored.  --argv-json FILE appends the
arguments in FILE (one JSON string a line) to COMMAND.  Then COMMAND is
executed.
"""

import json
import os
import subprocess
import sys

INACCESSIBLE, PRIVATE_TMP, READ_ONLY, READ_WRITE, READ_WRITE_IMPLICIT = range(5)
LISTS = ("ReadWritePaths", "ReadOnlyPaths", "InaccessiblePaths")
REFUSED = ("BindPaths", "BindReadOnlyPaths", "TemporaryFileSystem",
           "RootDirectory", "RootImage", "ReadOnlyDirectories",
           "ReadWriteDirectories", "InaccessibleDirectories", "MountImages",
           "ExtensionImages", "ExtensionDirectories", "ProtectProc",
           "PrivateMounts", "MountAPIVFS")
STRICT = ((["/"], READ_ONLY),
          (["/proc", "/sys", "/dev", "-/home", "-/run/user", "-/root"],
           READ_WRITE_IMPLICIT))


def die(text):
    """die - report TEXT and exit 2"""
    sys.stderr.write("systemd_sandbox: %s\n" % text)
    sys.exit(2)


def read_settings(files):
    """read_settings - the [Service] settings of FILES, in order"""
    settings = {name: [] for name in LISTS}
    for path in files:
        section = None
        for line in open(path):
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            if section != "[Service]" or "=" not in line:
                continue
            name, value = (s.strip() for s in line.split("=", 1))
            if name in REFUSED:
                die("%s: %s= is not emulated" % (path, name))
            if name in LISTS:
                settings[name] = settings[name] + value.split() if value else []
            else:
                settings[name] = value
    return settings


def truth(value):
    """truth - a systemd boolean"""
    return value.lower() in ("1", "yes", "true", "on")


def entries(settings):
    """entries - (path, mode, ignore-if-missing) for the settings"""
    wanted = []
    system = settings.get("ProtectSystem", "no").lower()
    if system == "strict":
        wanted += STRICT
    elif system == "full":
        wanted += [(["/usr", "-/boot", "-/efi", "/etc"], READ_ONLY)]
    elif truth(system):
        wanted += [(["/usr", "-/boot", "-/efi"], READ_ONLY)]
    elif system not in ("no", "0", "false", "off"):
        die("ProtectSystem=%s is not emulated" % system)
    home = settings.get("ProtectHome", "no").lower()
    homes = ["-/home", "-/run/user", "-/root"]
    if home == "read-only":
        wanted.append((homes, READ_ONLY))
    elif truth(home):
        wanted.append((homes, INACCESSIBLE))
    elif home not in ("no", "0", "false", "off"):
        die("ProtectHome=%s is not emulated" % home)
    if truth(settings.get("PrivateTmp", "no")):
        wanted.append((["/tmp", "/var/tmp"], PRIVATE_TMP))
    wanted += [(settings["InaccessiblePaths"], INACCESSIBLE),
               (settings["ReadOnlyPaths"], READ_ONLY),
               (settings["ReadWritePaths"], READ_WRITE)]
    out = []
    for paths, mode in wanted:
        for p in paths:
            ignore = p.startswith("-")
            p = os.path.normpath(p.lstrip("-+"))
            out.append((p, mode, ignore))
    return out


def plan(items):
    """plan - one entry per existing path, the most restrictive mode, by path"""
    items.sort(key=lambda e: (e[0].split("/") if e[0] != "/" else [""], e[1]))
    kept = []
    for path, mode, ignore in items:
        if kept and kept[-1][0] == path:
            continue
        if not os.path.exists(path):
            if ignore:
                continue
            die("%s does not exist (systemd would fail the unit: 226/NAMESPACE)" % path)
        kept.append((path, mode))
    return kept


def under(path, top):
    """under - PATH is TOP or below it"""
    return top == "/" or path == top or path.startswith(top + "/")


def mount_points():
    """mount_points - the mount points of this namespace, outermost first"""
    points = []
    for line in open("/proc/self/mountinfo"):
        p = line.split()[4]
        points.append(p.encode().decode("unicode_escape"))
    return points


def run(*argv):
    """run - a mount(8) command that must succeed"""
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        die("%s: %s" % (" ".join(argv), r.stderr.strip()))


def apply(kept):
    """apply - make the mounts of the plan"""
    run("mount", "--make-rprivate", "/")
    for path, mode in kept:
        if mode == PRIVATE_TMP:
            run("mount", "-t", "tmpfs", "-o", "mode=1777", "tmpfs", path)
        elif mode == INACCESSIBLE:
            run("mount", "-t", "tmpfs", "-o", "ro,mode=000", "tmpfs", path)
        elif path not in mount_points():
            run("mount", "--rbind", path, path)
    for path, mode in kept:
        if mode != READ_ONLY:
            continue
        others = [p for p, m in kept if m != READ_ONLY and p != path and under(p, path)]
        for mp in mount_points():
            if not under(mp, path) or any(under(mp, o) for o in others):
                continue
            r = subprocess.run(["mount", "-o", "remount,bind,ro", mp],
                               capture_output=True, text=True)
            if r.returncode != 0 and mp == path:
                die("read-only %s: %s" % (mp, r.stderr.strip()))


def main(args):
    """main - parse, mount, exec"""
    extra = []
    if args[:1] == ["--argv-json"]:
        extra = [json.loads(l) for l in open(args[1])]
        args = args[2:]
    if "--" not in args:
        die("usage: [--argv-json FILE] UNIT [DROP-IN ...] -- COMMAND [ARG ...]")
    cut = args.index("--")
    files, command = args[:cut], args[cut + 1:] + extra
    if not files or not command:
        die("a unit and a command are needed")
    kept = plan(entries(read_settings(files)))
    apply(kept)
    names = {INACCESSIBLE: "inaccessible", PRIVATE_TMP: "private tmp",
             READ_ONLY: "read-only", READ_WRITE: "read-write",
             READ_WRITE_IMPLICIT: "left to other settings"}
    for path, mode in kept:
        sys.stderr.write("systemd_sandbox: %s %s\n" % (path, names[mode]))
    sys.stderr.flush()
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
