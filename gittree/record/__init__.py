"""Recording by hand: experiments written without ``gittree run`` (docs/guide.md).

``commit`` (``gittree commit``) validates and commits an experiment; ``notes`` (``gittree record``,
``gittree abandon``) adds late results as git notes; ``keep`` (``gittree kept``, ``gittree forget``)
lists and forgets what the keep ref holds; ``metricsfile`` and ``paramsfile`` read the metrics and
params files an experiment takes its numbers from.
"""
