#!/usr/bin/env python3
"""Checks a waiting room's draw from what the platform publishes, and nothing else.

Before the on-sale the room publishes the SHA-256 of a secret seed; at the
on-sale it draws the early visitors' order and reveals the seed. The draw sorts
the early visitors by SHA-256(seed bytes + the visitor id as lower-case text),
so anyone can recompute it:

    python3 scripts/verify-draw.py http://127.0.0.1:3000 <event id> \
        [--commitment <the seed_sha256 you saw before the on-sale>] [--visitor <your visitor id>]

Exit 0 when the seed matches its commitment and the published order is the one
the seed gives (and, with --visitor, the visitor is in it, at the place printed).
"""
import argparse
import hashlib
import json
import sys
import urllib.request


def draw_order(seed_hex, visitor_ids):
    """The early visitors in the order the seed draws them."""
    seed = bytes.fromhex(seed_hex)
    return sorted(visitor_ids, key=lambda v: (hashlib.sha256(seed + v.lower().encode()).digest(), v.lower()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("event_id")
    parser.add_argument("--commitment", help="the room's seed_sha256 as published before the on-sale")
    parser.add_argument("--visitor", help="a visitor id whose place to print")
    args = parser.parse_args()

    url = f"{args.base_url.rstrip('/')}/api/tickets/events/{args.event_id}/waiting-room/draw"
    with urllib.request.urlopen(url, timeout=30) as response:
        draw = json.load(response)
    commitment = (args.commitment or draw["seed_sha256"]).lower()
    if hashlib.sha256(bytes.fromhex(draw["seed"])).hexdigest() != commitment:
        sys.exit("the revealed seed does not hash to the commitment: the draw is not the one promised")
    published = [v.lower() for v in draw["visitors"]]
    if draw_order(draw["seed"], published) != published:
        sys.exit("the published order is not the order the seed draws")
    if args.visitor:
        visitor = args.visitor.lower()
        if visitor not in published:
            sys.exit(f"visitor {visitor} is not among the early visitors drawn")
        print(f"visitor {visitor} was drawn at place {published.index(visitor) + 1} of {len(published)}")
    print(f"the draw holds: {len(published)} early visitors, in the order the seed gives")


if __name__ == "__main__":
    main()
