"""A live progress line for sweeps and protocols (tqdm): done / pruned / failed, elapsed, ETA.

::

    protocol_smoke: 61%|██████    | 11/18 [01:02<00:39, completed=7 pruned=3 diverged=0 failed=1]

The line is redrawn as each run ends; messages (a failure's reason) are printed above it.
Runs found already done count as done from the start, so the rate and the ETA are those of
the runs trained now.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

STATUSES = ("completed", "pruned", "diverged", "failed")


class Progress:
    """Counts run outcomes on one live line (``enabled=False``: a plain line per run instead)."""

    def __init__(self, total: int, *, initial: int = 0, description: str = "runs", enabled: bool = True):
        from tqdm.auto import tqdm

        self.counts: Counter[str] = Counter()
        self.enabled, self.done, self.total = enabled, initial, total
        self.bar = tqdm(
            total=total,
            initial=initial,
            desc=description,
            unit="run",
            file=sys.stderr,
            dynamic_ncols=True,
            disable=not enabled,
            smoothing=0.1,
        )
        self.bar.set_postfix_str(self._postfix(), refresh=False)

    def _postfix(self) -> str:
        return " ".join(f"{status}={self.counts[status]}" for status in STATUSES)

    def update(self, outcome: dict[str, Any], count: int = 1) -> None:
        """One run (or ``count``) ended with ``outcome['status']`` (``done``: found finished)."""
        status = "done" if outcome.get("already_done") else outcome.get("status", "failed")
        if status != "done":
            self.counts[status] += count
        if outcome.get("reason") and status == "failed":
            self.write(f"{outcome.get('run_id', '')}: failed ({outcome['reason']})")
        self.bar.set_postfix_str(self._postfix(), refresh=False)
        self.bar.update(count)
        self.done += count
        if not self.enabled and outcome.get("run_id"):
            print(f"[{self.done}/{self.total}] {outcome['run_id']}: {status}", flush=True)

    def write(self, message: str) -> None:
        self.bar.write(message, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()
