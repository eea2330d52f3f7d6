"""The decisions log: append-only JSONL, one record per screened item, never content.

Each line holds the time, a sequence number, the policy's sha256, the item id, modality
and content sha256, the action and every checker decision (category, score, checker,
reason). Reasons are written by checkers from list entries and numbers, never from the
content. Lines are appended and fsync'ed batch by batch; the file is created owner-only
(0600), since hashes of blocked content are themselves sensitive.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit.safety._decision import Verdict


class DecisionLog:
    """Append-only JSONL log of filter verdicts.

    Parameters
    ----------
    path : str or Path
        The log file (created with its folders; existing content is kept).
    policy_sha256 : str
        Recorded on every line, so a decision can be traced to the policy that made it.
    """

    def __init__(self, path: str | Path, *, policy_sha256: str = "") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.policy_sha256 = policy_sha256
        self._lock = threading.Lock()
        self._seq = 0
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)

    def write(self, verdicts: Sequence[Verdict], *, cached: Sequence[bool] | None = None) -> None:
        """Append one line per verdict (``cached`` marks verdicts served from memory)."""
        if not verdicts:
            return
        flags = list(cached) if cached is not None else [False] * len(verdicts)
        now = datetime.now(UTC).isoformat()
        with self._lock:
            lines = []
            for verdict, was_cached in zip(verdicts, flags, strict=True):
                self._seq += 1
                record: dict[str, Any] = {
                    "ts": now,
                    "seq": self._seq,
                    "policy_sha256": self.policy_sha256,
                    **verdict.to_record(),
                    "cached": bool(was_cached),
                }
                lines.append(json.dumps(record, sort_keys=True, allow_nan=False))
            data = memoryview(("\n".join(lines) + "\n").encode("utf-8"))
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            try:
                while data:  # os.write may write less than asked
                    data = data[os.write(fd, data) :]
                os.fsync(fd)  # a crash after embed() returns cannot lose its decisions
            finally:
                os.close(fd)

    def read(self) -> list[dict[str, Any]]:
        """Every record in the file, in order."""
        text = self.path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]
