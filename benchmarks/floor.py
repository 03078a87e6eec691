"""The least a Python program can do to read a research tree: a floor for the cold target.

    python -m benchmarks.floor REPO

Reads every commit reachable from every ref as gittree's bulk read does (``git rev-list --stdin``
piped into ``git cat-file --batch``) and keeps, per commit, only its parents and its
``Gittree-Metric`` numbers: no author, date, params, notes or status, no checks of the message's
shape, no tree, no verdicts, no cache. Whatever a tree builder in Python does costs at least this,
so the ratio this measures against the reference is a lower bound on gittree's cold ratio
(docs/performance.md, "The cold read"). Not used by gittree itself.
"""

from __future__ import annotations

import re
import subprocess
import sys

METRIC_LINE = re.compile(rb"^Gittree-Metric: ([^=\n]+)=([^\n]*)$", re.MULTILINE)


Facts = tuple[list[bytes], list[tuple[bytes, float]]]


def read_floor(repo: str) -> dict[bytes, Facts]:
    """Every reachable commit's parents and metric samples (name, number), by commit id."""
    listing = subprocess.run(
        ["git", "-C", repo, "show-ref", "--head", "--dereference"], capture_output=True, check=True
    ).stdout
    tips = b"".join(line.split(b" ", 1)[0] + b"\n" for line in listing.splitlines())
    walk = subprocess.Popen(
        ["git", "-C", repo, "rev-list", "--stdin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    objects = subprocess.Popen(
        ["git", "-C", repo, "cat-file", "--batch"], stdin=walk.stdout, stdout=subprocess.PIPE
    )
    assert walk.stdin is not None and walk.stdout is not None and objects.stdout is not None
    walk.stdout.close()  # cat-file holds it now
    walk.stdin.write(tips)
    walk.stdin.close()
    readline, read = objects.stdout.readline, objects.stdout.read
    commits: dict[bytes, Facts] = {}
    while header := readline():
        sha, _, size = header.split()
        body = read(int(size) + 1)[:-1]  # the object (without the newline after it)
        end = body.find(b"\n\n")
        parents = [line[7:] for line in body[:end].split(b"\n") if line.startswith(b"parent ")]
        last = body.rfind(b"\n\n", end + 2, len(body) - 1)  # the trailer block is the last paragraph
        metrics = [(name, float(value)) for name, value in METRIC_LINE.findall(body, max(last, end))]
        commits[sha] = (parents, metrics)
    if objects.wait() or walk.wait():
        raise RuntimeError("git failed to read the history")
    return commits


if __name__ == "__main__":
    print(len(read_floor(sys.argv[1])), "commits")
