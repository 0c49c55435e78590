#!/usr/bin/env python3
"""Generates the benchmark repository for benches/source/compare.sh with `git fast-import`.

Deterministic (fixed seed, fixed dates): 20,000 files under 40 folders of 500 files
(`apps/app-NN/file-NNN.yaml`), 3,000 commits, about 100 MB of packed objects. The first commit adds
every file; each later commit rewrites 8 files with fresh, incompressible-ish content, so the
history holds many blob versions as a long-lived monorepo does.

Usage: generate.py DIR   (creates the bare repository DIR; does nothing if DIR/.complete exists)
"""
import base64
import os
import random
import subprocess
import sys

FOLDERS, PER_FOLDER, COMMITS, CHANGES = 40, 500, 3000, 8
FILE_SIZE = 3072  # bytes of the initial files; rewrites are the same size


def content(rng, n):
    # Base64 text: random (so it neither deltas nor compresses away), YAML-like as a manifest.
    return b"data: " + base64.b64encode(rng.randbytes(n * 3 // 4 - 6)) + b"\n"


def main():
    target = sys.argv[1]
    if os.path.exists(os.path.join(target, ".complete")):
        return
    subprocess.run(["rm", "-rf", target], check=True)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", target], check=True)
    rng = random.Random(20261122)
    imp = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=target, stdin=subprocess.PIPE)
    out = imp.stdin
    paths = [f"apps/app-{f:02}/file-{i:03}.yaml" for f in range(FOLDERS) for i in range(PER_FOLDER)]
    when = 1_700_000_000
    for n in range(COMMITS):
        changed = paths if n == 0 else rng.sample(paths, CHANGES)
        message = f"commit {n}\n".encode()
        out.write(b"commit refs/heads/main\n")
        out.write(f"committer Bench <bench@example.com> {when + n * 60} +0000\n".encode())
        out.write(b"data %d\n%s\n" % (len(message), message))
        for path in changed:
            blob = content(rng, FILE_SIZE)
            out.write(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(blob), blob))
        if n % 500 == 0:
            out.write(f"tag v0.{n // 500}.0\nfrom refs/heads/main\ntagger Bench <bench@example.com> {when + n * 60} +0000\ndata 0\n\n".encode())
    out.close()
    if imp.wait() != 0:
        sys.exit("git fast-import failed")
    # One pack, as a served repository would have after `git gc`.
    subprocess.run(["git", "repack", "-adq", "--window=0"], cwd=target, check=True)
    open(os.path.join(target, ".complete"), "w").close()


if __name__ == "__main__":
    main()
