"""The feed's delivery faults: messages listed twice or delivered again later, and a page
delivered out of order (at-least-once, unordered delivery an I-VAN must survive)."""

from __future__ import annotations

import copy
from typing import Any

from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from mock_gateway.exchange import GatewayResponse
from mock_gateway.faults import Fault, FaultHost, Req, Resp


def _feed(response: Resp) -> tuple[Any, list[Any]] | None:
    """The feed document and its THONGBAO nodes (None for anything but a 200 feed)."""
    if response.status != 200:
        return None
    root = etree.fromstring(response.body, etree.XMLParser(resolve_entities=False))
    listing = root.find("DS_THONGBAO")
    return None if listing is None else (root, list(listing))


def _rewrite_feed(response: Resp, root: Any, nodes: list[Any]) -> Resp:
    listing = root.find("DS_THONGBAO")
    for child in list(listing):
        listing.remove(child)
    listing.extend(nodes)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return GatewayResponse(response.status, dict(response.headers), body, response.outcome)


class DuplicateMessages(Fault):
    """At-least-once delivery: messages twice in a page, and served ones once more later."""

    kind = "duplicate-messages"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.redeliver = self.params.flag("redeliver", False)
        self.served: dict[str, list[Any]] = {}  # per credential: nodes already served
        self.redelivered: set[tuple[str, str]] = set()

    def after(self, request: Req, response: Resp, host: FaultHost) -> Resp:
        feed = _feed(response)
        if feed is None:
            return response
        root, nodes = feed
        who = request.header("authorization") or ""
        out: list[Any] = []
        for node in nodes:
            out += [node, copy.deepcopy(node)] if self.fire() else [node]
        doubled = len(out) - len(nodes)
        again = []
        page = {n.findtext("ID") for n in nodes}
        for node in self.served.get(who, []) if self.redeliver else []:
            key = (who, node.findtext("ID") or "")
            if key[1] not in page and key not in self.redelivered:
                self.redelivered.add(key)
                again.append(copy.deepcopy(node))
        self.served.setdefault(who, []).extend(copy.deepcopy(n) for n in nodes)
        if not doubled and not again:
            return response
        host.event(self, request, f"listed {doubled} message(s) twice, redelivered {len(again)}")
        return _rewrite_feed(response, root, out + again)


class ReorderMessages(Fault):
    """Deliver a feed page out of order (reversed, or shuffled by the seeded RNG)."""

    kind = "reorder-messages"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.mode = self.params.choice("mode", "reverse", ("reverse", "shuffle"))

    def after(self, request: Req, response: Resp, host: FaultHost) -> Resp:
        feed = _feed(response)
        if feed is None or len(feed[1]) < 2 or not self.fire():
            return response
        root, nodes = feed
        if self.mode == "shuffle":
            self.rng.shuffle(nodes)
        else:
            nodes.reverse()
        order = ", ".join(f"{n.findtext('LOAI')}#{n.findtext('CON_TRO')}" for n in nodes)
        host.event(self, request, f"page delivered out of order: {order}")
        return _rewrite_feed(response, root, nodes)


__all__ = ["DuplicateMessages", "ReorderMessages"]
