"""Renderers: a research tree in, text or bytes out. None of them talks to git."""
