"""Renderers: a research tree in, text or bytes out. None of them talks to git."""

#: Fold a linear chain of at least this many negligible experiments into one mark (docs/render.md).
#: Here rather than in render.dot so that naming a cached drawing imports nothing heavy.
DEFAULT_FOLD = 4
