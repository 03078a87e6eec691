"""Runs: executing a command and turning what it did into an experiment (docs/runs.md).

``execute`` (``gittree run``) journals, runs and streams the command; ``journal`` keeps every run in
the git common dir; ``capture`` and ``metrics`` gather what it measured; ``treecommit`` commits the
code it started with onto a branch; ``commit`` turns a journalled run into an experiment (and lists,
prunes and recovers runs); ``samples`` and ``sweep`` repeat runs over seeds and grids; ``curves``
reads the curves a run logged.
"""
