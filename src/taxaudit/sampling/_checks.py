"""Argument checks shared by the sampling modules; each raises :class:`SamplingError` with a hint."""

from __future__ import annotations

from taxaudit.sampling.errors import SamplingError


def check_confidence(confidence: float) -> float:
    """Return ``confidence`` if it is a probability strictly between 0 and 1."""
    if not 0.0 < float(confidence) < 1.0:
        raise SamplingError(f"confidence {confidence} is not between 0 and 1",
                            where="confidence", hint="give it as a fraction, e.g. 0.95 for 95 percent")
    return float(confidence)


def check_rate(value: float, name: str, *, allow_zero: bool = True) -> float:
    """Return ``value`` if it is a rate in [0, 1) (or (0, 1) when zero is not allowed)."""
    low_ok = value >= 0.0 if allow_zero else value > 0.0
    if not (low_ok and value < 1.0):
        raise SamplingError(f"{name} {value} is not a rate {'in [0, 1)' if allow_zero else 'in (0, 1)'}",
                            where=name, hint="give it as a fraction, e.g. 0.05 for 5 percent")
    return float(value)


def check_count(value: int, name: str, *, minimum: int = 0) -> int:
    """Return ``value`` if it is an integer not below ``minimum``."""
    if int(value) != value or value < minimum:
        raise SamplingError(f"{name} {value} is not a whole number of at least {minimum}", where=name)
    return int(value)
