"""How numbers read in every view: four significant digits, deltas and spreads at the value's precision."""

from __future__ import annotations

import math

from gittree.model import MetricSummary

SIGNIFICANT = 4
_floor, _log10 = math.floor, math.log10


def decimals_for(magnitude: float) -> int:
    """Decimal places that give four significant digits at this magnitude (0 for large numbers)."""
    if not math.isfinite(magnitude) or magnitude == 0:
        return SIGNIFICANT
    return max(0, SIGNIFICANT - 1 - math.floor(math.log10(abs(magnitude))))


#: For each power of ten a plainly written value can have (1e-3 up to 1e5): below this, rounding to
#: four significant digits cannot carry it up to the next power (999.95 -> "1000.0" has five).
_NO_CARRY_BELOW = {e: 9.99 * 10.0**e for e in range(-3, 6)}


def format_value(x: float, decimals: int | None = None) -> str:
    """``0.7312``, ``12.35``, ``1.200e-05``, ``nan``, ``inf``; ``decimals`` pins the precision (deltas, spreads).

    Four significant digits of the value as rounded: 999.95 is ``1000``, 999999.5 is ``1.000e+06``.
    """
    if decimals is None and (1e-3 <= x < 1e6 or -1e6 < x <= -1e-3):
        # Nearly every value (NaN fails both tests): decimals_for(x), written out, as a view of a
        # 100k-experiment tree formats half a million of them.
        power = _floor(_log10(abs(x)))
        text = f"{x:.{max(0, SIGNIFICANT - 1 - power)}f}"
        return text if abs(x) < _NO_CARRY_BELOW[power] else _carried(x, text)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if decimals is None:
        if x != 0 and not 1e-3 <= abs(x) < 1e6:
            return f"{x:.{SIGNIFICANT - 1}e}"
        return _carried(x, f"{x:.{decimals_for(x)}f}")
    elif abs(x) >= 1e6:
        # Pinned decimals are for numbers near the value's size; a delta or spread of a million or
        # more is written as such a value is (a 1e308 delta at 0 decimals was 309 digits wide).
        return f"{x:.{SIGNIFICANT - 1}e}"
    return f"{x:.{decimals}f}"


def _carried(x: float, text: str) -> str:
    """``text`` (``x`` at decimals_for(x)) again at the precision of its rounded value, when rounding
    carried it up to the next power of ten; in scientific notation when that reached a million."""
    rounded = abs(float(text))
    if rounded == 0 or _floor(_log10(rounded)) <= _floor(_log10(abs(x))):
        return text
    if rounded >= 1e6:
        return f"{x:.{SIGNIFICANT - 1}e}"
    return f"{x:.{decimals_for(rounded)}f}"


def is_plain(x: float) -> bool:
    """Whether a value is written with decimals (not in scientific notation, not zero, NaN or inf)."""
    return 1e-3 <= abs(x) < 1e6


#: Deltas are written with at most this many decimals; a smaller one gets two significant digits of its own.
MAX_DELTA_PLACES = 8
#: The small end of a tree's deltas that :func:`column_places` writes with two significant digits.
SMALL_DELTAS_QUANTILE = 0.1


def column_places(deltas: list[tuple[float, float]]) -> int | None:
    """The decimals every delta of one metric is written with in a view: (delta, reference value) pairs.

    At least the precision of the most precise reference value (four significant digits); more when
    the tree's deltas are smaller than that: the small end of their spread (the 10th percentile of
    |delta|) gets two significant digits, so deltas of that size read different, and the smallest
    real one at least one, so no change reads as zero. At most :data:`MAX_DELTA_PLACES`. A delta below
    a billionth of its reference is binary rounding, not a change, and counts for nothing. None when
    no delta has a reference written with decimals (each delta is then written on its own).
    """
    # (|delta|, |reference|) of the references written with decimals (is_plain), in one comprehension:
    # a view of 100k experiments asks this of 100k pairs
    plain = [(abs(delta), abs(reference)) for delta, reference in deltas if 1e-3 <= abs(reference) < 1e6]
    if not plain:
        return None
    # decimals_for gives fewer places to bigger magnitudes: the smallest reference has the most
    places = decimals_for(min(reference for _, reference in plain))
    sizes = sorted(size for size, reference in plain if math.isfinite(size) and size > 1e-9 * reference)
    if not sizes:
        return places
    small = sizes[
        int(SMALL_DELTAS_QUANTILE * len(sizes))
    ]  # of ten deltas the second smallest, of nine the smallest
    needed = max(decimals_for(small) - 2, -_floor(_log10(sizes[0])))
    return min(max(places, needed), max(places, MAX_DELTA_PLACES))


def format_delta(delta: float | None, reference: float | None = None, places: int | None = None) -> str:
    """A signed delta at the precision of the value it changes: ``+0.0240``, ``-1.3``; empty when none.

    ``places``: the decimals of the view's column (:func:`column_places`), for a reference written with
    decimals; else the reference's own precision.
    """
    if delta is None:
        return ""
    if math.isnan(delta):  # a diverged run: no direction to sign
        return "nan"
    # At the reference's precision when it is written with decimals; a reference in scientific
    # notation (1e-20) has no decimal places to keep, and pinning them wrote 25 digits of noise.
    decimals = None
    if reference is not None and reference != 0 and is_plain(reference):
        decimals = decimals_for(reference) if places is None else places
    text = format_value(delta, decimals)
    if text.lstrip("-").strip("0.") == "" and not math.isnan(delta):
        if delta == 0:
            return "±0"
        if reference is not None and decimals is not None and abs(delta) > 1e-9 * abs(reference):
            # A real change too small for the value's precision (autoresearch gains are 1e-5 to 1e-3 of a
            # value near 1): written to two significant digits of its own, never as -0.0000 (issue 17).
            # Below a billionth of the value it is binary rounding, not a change: written as before.
            own = decimals_for(delta) - 2
            text = f"{abs(delta):.{own}f}" if own <= MAX_DELTA_PLACES else f"{abs(delta):.1e}"
        return ("+" if delta > 0 else "-") + text.lstrip("-")
    return text if text.startswith("-") else "+" + text


def format_summary(summary: MetricSummary | None) -> str:
    """``0.7312`` for one run, ``0.7300 ± 0.0017 (3)`` for repeated runs, ``—`` when absent."""
    if summary is None:
        return "—"
    if summary.n == 1:
        return format_value(summary.samples[0])
    mean = summary.mean
    decimals = decimals_for(mean) if math.isfinite(mean) and mean != 0 and 1e-3 <= abs(mean) < 1e6 else None
    std = summary.std
    spread = format_value(std, decimals) if std is not None else "?"
    return f"{format_value(mean, decimals)} ± {spread} ({summary.n})"


def format_plain(x: float) -> str:
    """A setting such as a threshold, without padding zeros: ``0.003``, ``1e-05``."""
    return f"{x:g}"
