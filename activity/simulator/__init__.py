"""A faithful stand-in for the vendor APIs (Lightdash, Datafold, Domo, Velt).

It serves deterministic fake data on 127.0.0.1, one path prefix per vendor, so a sync runs
over real HTTP exactly as it would against the vendors; it can also misbehave on demand
(429s, 5xx HTML pages, timeouts, resets, truncated bodies, looping cursors, duplicates,
expired tokens), also mid-sync (``inject(..., after=N)``), serve hostile records
(``hostile=True``: markup, controls, formulas, 100 kB strings, deep nesting, nulls) and take
new or late events, for the tests and the demo.
"""

from activity.simulator.server import FAULTS, VENDORS, VendorSimulator

__all__ = ["FAULTS", "VENDORS", "VendorSimulator"]
