"""Human-friendly durations: '1h2m3s' <-> seconds."""

from __future__ import annotations

import re

_UNITS = {"h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)([hms])")


def parse_duration(text: str) -> int:
    """Parse '1h30m', '45s' or '2h5s' into seconds; raise ValueError on anything else."""
    text = text.strip().lower()
    if not text:
        raise ValueError("empty duration")
    total, position = 0, 0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        total += int(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(text):
        raise ValueError(f"not a duration: {text!r}")
    return total


def format_duration(seconds: int) -> str:
    """Render seconds as '1h2m3s', leaving out zero parts ('2m', '1h5s'); 0 is '0s'."""
    if seconds < 0:
        raise ValueError("negative duration")
    hours = seconds // 3600
    minutes = seconds % 60
    secs = seconds % 60
    parts = [f"{value}{unit}" for value, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if value]
    return "".join(parts) or "0s"
