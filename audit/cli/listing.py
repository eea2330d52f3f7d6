"""``audit list``: suites, embedder backends (with what they accept and whether they can
run here), and bias probes. Reads registries and the backends' own tables; loads no model.
"""

from __future__ import annotations

import argparse

from audit.cli._exit import ExitCode

NAME = "list"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``audit list suites|embedders|probes``."""
    lst = sub.add_parser(NAME, help="list registered suites, embedders or bias probes")
    lst.add_argument("what", choices=["suites", "embedders", "probes"])


def run(args: argparse.Namespace) -> ExitCode:
    """Run ``audit list``; exit code 0."""
    return cmd_list(args.what)


def cmd_list(what: str) -> ExitCode:
    """``audit list suites|embedders|probes``: print the registry; exit code 0."""
    if what == "probes":
        from audit.suites.bias import list_probes  # no torch/faiss import

        for name, description in list_probes():
            print(f"{name:36s} {description}")
        return ExitCode.OK
    if what == "suites":
        from audit.suites import SUITES

        for name in SUITES.names():
            print(f"{name:12s} {SUITES.get(name).description}")
    else:
        from audit.embedders import EMBEDDERS
        from audit.embedders._availability import availability

        for name in EMBEDDERS.names():
            entry = EMBEDDERS.get(name)
            spec = f"{name}:<arg>" if entry.needs_arg else name
            ok, why = availability(name)
            print(f"{spec:16s} {entry.description}")
            for line in _embedder_capabilities(name):
                print(f"{'':16s}   {line}")
            print(f"{'':16s}   {'available' if ok else 'unavailable'} here: {why}")
    return ExitCode.OK


def _embedder_capabilities(name: str) -> list[str]:
    """Modalities and sizes per backend, from the backends' own tables (no model loads)."""
    if name == "local":
        return ["modalities: text, image, document, video, audio; dims: 384 (no MRL)"]
    if name == "bedrock":
        from audit.embedders.bedrock._families import MODELS

        return [
            f"{model_id}: {', '.join(sorted(spec.modalities))}; dims: "
            f"{'/'.join(str(d) for d in spec.dims)}"
            for model_id, spec in MODELS.items()
        ]
    if name == "gemini":
        from audit.embedders.google import _limits as g

        return [
            f"{g.GEMINI_MODEL}: text ({g.GEMINI_TOKEN_LIMIT} tokens); dims: "
            f"{g.GEMINI_NATIVE_DIM} and any size down to {g.GEMINI_MIN_DIM} (recommended "
            f"{'/'.join(str(d) for d in g.GEMINI_RECOMMENDED_DIMS)})"
        ]
    if name == "vertex":
        from audit.embedders.google import _limits as g

        return [
            f"{g.VERTEX_MM_MODEL}: text ({g.VERTEX_MM_TOKEN_LIMIT} tokens), image, video; "
            f"documents opt-in; dims: {'/'.join(str(d) for d in sorted(g.VERTEX_MM_DIMS))} "
            f"(video {g.VERTEX_MM_VIDEO_DIM} only)"
        ]
    return ["modalities and dims: depend on the model"]
