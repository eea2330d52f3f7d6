"""``audit list``: embedder backends (with what they accept and whether they can run here),
and every other registry of :data:`audit.catalog.CATALOG` (suites, probes, engines, metrics,
attacks, defenses). Reads registries and the backends' own tables; loads no model.
"""

from __future__ import annotations

import argparse

from audit.catalog import CATALOG, catalog_lines
from audit.cli._exit import ExitCode

NAME = "list"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``audit list embedders|suites|probes|...``."""
    lst = sub.add_parser(
        NAME, help="list registered embedders, suites, probes, engines, metrics, attacks, ..."
    )
    lst.add_argument("what", choices=["embedders", *CATALOG])


def run(args: argparse.Namespace) -> ExitCode:
    """Run ``audit list``; exit code 0."""
    return cmd_list(args.what)


def cmd_list(what: str) -> ExitCode:
    """``audit list WHAT``: print the registry; exit code 0."""
    if what != "embedders":
        for line in catalog_lines(what):
            print(line)
        return ExitCode.OK
    from audit.embedders import EMBEDDERS
    from audit.embedders._availability import availability, capabilities

    for name in EMBEDDERS.names():
        entry = EMBEDDERS.get(name)
        spec = f"{name}:<arg>" if entry.needs_arg else name
        ok, why = availability(name)
        print(f"{spec:16s} {entry.description}")
        for line in capabilities(name):
            print(f"{'':16s}   {line}")
        print(f"{'':16s}   {'available' if ok else 'unavailable'} here: {why}")
    return ExitCode.OK
