"""The kinds of message BHXH sends an I-VAN after a dossier's receipt (DOMAIN.md), as the
``LOAI_TBAO`` of the message and the ``kind`` of the feed entry.

The gateway writes them and every suite reads them, so they are defined once.
"""

from __future__ import annotations

HANDOVER = "02/TB-TS"
"""Hand-over notice: the dossier was received by the BHXH office and numbered (SO_HSO)."""
RESULT = "03/TB-TS"
"""Result notice: the dossier was accepted, or the rows found defective."""
FEED_KINDS = (HANDOVER, RESULT)
"""The kinds in an I-VAN's feed, in the order a dossier gets them."""

__all__ = ["FEED_KINDS", "HANDOVER", "RESULT"]
