"""Model folders for the hub backends (``st:``, ``hf:``): spec options, pins, weight policy.

A spec argument reads ``<path-or-hub-id>[?option=value&...][#pins]``:

- the path is a local model folder; anything else that looks like ``owner/name`` is a
  Hugging Face hub id, fetched once into the local hub cache (``snapshot_download``) and
  then loaded from that folder, so what is hashed is exactly what is loaded;
- options are backend settings (``device=cuda``, ``matryoshka=256,128``, ...);
- pins are ``#sha256=<hex>`` (the folder has exactly one weight file) or
  ``#<relative/file>=<hex>,<other/file>=<hex>``. A ``SHA256SUMS`` file inside the folder,
  in the format ``sha256sum`` writes, pins files too. With any pin present, every weight
  file that will load must be pinned, and every pinned file must match.

Weights in pickle formats (``.bin``, ``.pt``, ``.pth``, ``.ckpt``, ``.pkl``) are refused
unless the user opts in (``?allow_pickle=1`` or ``MME_AUDIT_ALLOW_PICKLE_WEIGHTS=1``):
loading them runs ``torch.load``, i.e. unpickling, which can execute code.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

from audit.registry import did_you_mean
from audit.weights import WeightsError, sha256_file

log = logging.getLogger(__name__)

PICKLE_ENV = "MME_AUDIT_ALLOW_PICKLE_WEIGHTS"
SUMS_FILE = "SHA256SUMS"
SAFE_SUFFIXES = (".safetensors",)
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
# Files that never change the vectors; left out of the configuration digest.
_NOT_CONFIG = {"README.md", ".gitattributes", SUMS_FILE}
# Other frameworks' weights: never loaded by the torch backends, so never fetched.
_FOREIGN_WEIGHTS = ["*.h5", "*.msgpack", "*.onnx", "*.ot", "*.tflite", "*.gguf", "onnx/*"]
_FOREIGN_WEIGHTS += ["openvino/*", "coreml/*", "*.mlmodel"]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[A-Za-z0-9][\w.\-]*)?$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
COMMON_OPTIONS = ("revision", "device", "batch_size", "allow_pickle", "matryoshka")
#: ``hf:`` also samples video frames and renders document pages.
HF_OPTIONS = (*COMMON_OPTIONS, "frames", "pages")


@dataclass(frozen=True)
class ModelRef:
    """A parsed spec argument.

    Attributes
    ----------
    source : str
        The local folder or hub id, as written.
    options : dict
        ``?key=value`` options, unparsed.
    pins : dict
        Relative file path -> pinned sha256 (``""`` for a bare ``#sha256=``).
    """

    source: str
    options: Mapping[str, str] = field(default_factory=dict)
    pins: Mapping[str, str] = field(default_factory=dict)

    @property
    def display(self) -> str:
        """Short model name: the hub id, or the folder's own name."""
        path = Path(self.source).expanduser()
        return path.resolve().name if path.is_dir() else self.source


@dataclass(frozen=True)
class ModelFiles:
    """A resolved model folder and what it holds.

    Attributes
    ----------
    root : Path
        The folder to load from.
    weights : dict
        Relative path -> sha256 of every weight file that will load.
    config_sha256 : str
        One digest over the other files (configs, tokenizer, preprocessor), which change
        the output as much as the weights do.
    """

    root: Path
    weights: dict[str, str]
    config_sha256: str


def parse_model_arg(arg: str, *, kind: str, allowed: Collection[str]) -> ModelRef:
    """Split ``<source>[?options][#pins]`` and check option names and pin syntax.

    Raises
    ------
    ValueError
        For an empty source, an unknown or repeated option, or a malformed pin.
    """
    rest, _, fragment = arg.partition("#")
    source, _, query = rest.partition("?")
    source = source.strip()
    if not source:
        raise ValueError(f"{kind}: needs a model folder or hub id, got {arg!r}")
    options: dict[str, str] = {}
    if query:
        try:
            pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
        except ValueError as exc:
            raise ValueError(f"{kind}: bad options {query!r}; write ?key=value&key=value") from exc
        for key, value in pairs:
            if key not in allowed:
                raise ValueError(
                    f"{kind}: unknown option {key!r}{did_you_mean(key, allowed)}; "
                    f"known: {', '.join(sorted(allowed))}"
                )
            if key in options:
                raise ValueError(f"{kind}: option {key!r} given twice")
            options[key] = value
    return ModelRef(source=source, options=options, pins=_parse_pins(fragment, kind))


def _parse_pins(fragment: str, kind: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in fragment.split(","))):
        name, sep, digest = part.rpartition("=")
        if not sep or not _HEX64.match(digest):
            raise ValueError(
                f"{kind}: bad pin {part!r}; write #sha256=<64 hex> or #<file>=<64 hex>,..."
            )
        key = "" if name == "sha256" else _norm(name)
        if key in pins:
            raise ValueError(f"{kind}: file {name!r} pinned twice")
        pins[key] = digest.lower()
    return pins


def _norm(rel: str) -> str:
    rel = rel.strip().replace("\\", "/")
    return rel[2:] if rel.startswith("./") else rel


def pickle_allowed(ref: ModelRef) -> bool:
    """Whether the user opted in to pickle weights (option or environment variable)."""
    return opt_bool(ref, "allow_pickle", False) or os.environ.get(PICKLE_ENV, "") in ("1", "true")


def opt_bool(ref: ModelRef, key: str, default: bool) -> bool:
    """A boolean option (``1/0/true/false/yes/no``)."""
    raw = ref.options.get(key)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", ""):
        return True
    if value in ("0", "false", "no"):
        return False
    raise ValueError(f"option {key}={raw!r} must be 1 or 0")


def opt_int(ref: ModelRef, key: str, default: int, *, minimum: int = 1) -> int:
    """An integer option no smaller than ``minimum``."""
    raw = ref.options.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"option {key}={raw!r} must be an integer") from None
    if value < minimum:
        raise ValueError(f"option {key}={value} must be >= {minimum}")
    return value


def matryoshka_option(ref: ModelRef, dim: int) -> tuple[int, ...]:
    """``matryoshka=512,256``: trained truncation sizes, largest first, each in [1, dim]."""
    raw = ref.options.get("matryoshka")
    if not raw:
        return ()
    try:
        dims = {int(x) for x in raw.split(",") if x.strip()}
    except ValueError:
        raise ValueError(f"option matryoshka={raw!r} must be comma-separated integers") from None
    bad = sorted(d for d in dims if not 1 <= d <= dim)
    if bad:
        raise ValueError(f"option matryoshka: sizes {bad} are outside [1, {dim}]")
    return tuple(sorted(dims, reverse=True))


def device_option(ref: ModelRef) -> str:
    """``device=cpu|cuda|cuda:N|mps`` (default cpu), checked against what torch has."""
    import torch

    name = ref.options.get("device", "cpu") or "cpu"
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"option device={name!r}: {exc}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"option device={name!r}: torch sees no CUDA device here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"option device={name!r}: torch sees no MPS device here")
    return name


def resolve_model_dir(ref: ModelRef, *, allow_pickle: bool) -> Path:
    """The local folder for ``ref``: the path itself, or a hub snapshot fetched into the cache.

    Raises
    ------
    ValueError
        If the source is neither an existing folder nor a valid hub id, or a hub id
        cannot be fetched (offline and not cached).
    """
    path = Path(ref.source).expanduser()
    if path.is_dir():
        if "revision" in ref.options:
            raise ValueError(f"option revision applies to hub ids only, not the folder {path}")
        return path.resolve()
    if path.exists():
        raise ValueError(f"model path {path} is a file; give the model folder")
    looks_like_path = ref.source.startswith(("/", ".", "~")) or ref.source.count("/") > 1
    if looks_like_path or "\\" in ref.source or not _HUB_ID.match(ref.source):
        raise ValueError(f"model folder not found: {ref.source}")
    from huggingface_hub import snapshot_download

    ignore = list(_FOREIGN_WEIGHTS)
    if not allow_pickle:  # do not even download what will be refused
        ignore += [f"*{s}" for s in PICKLE_SUFFIXES]
    try:
        folder = snapshot_download(
            ref.source, revision=ref.options.get("revision"), ignore_patterns=ignore
        )
    except Exception as exc:  # offline, unknown repo, gated repo, ...
        raise ValueError(
            f"cannot fetch hub model {ref.source!r} ({type(exc).__name__}: {exc}); it is not "
            "in the local hub cache and the hub cannot be reached; give a local folder instead"
        ) from exc
    return Path(folder)


def _files(root: Path) -> list[tuple[str, Path]]:
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not any(part.startswith(".") for part in Path(rel).parts[:-1]):
            out.append((rel, p))
    return out


def _read_sums(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, _, name = line.partition(" ")
        name = name.strip().lstrip("*")  # sha256sum's binary-mode marker
        if not _HEX64.match(digest) or not name:
            raise WeightsError(f"{path}:{n}: expected '<sha256>  <file>', got {line!r}")
        pins[_norm(name)] = digest.lower()
    return pins


def inspect_model_dir(root: Path, ref: ModelRef, *, allow_pickle: bool) -> ModelFiles:
    """Find the weight files that will load, refuse pickle ones, check pins, hash all.

    Raises
    ------
    WeightsError
        Pickle weights without opt-in, no weights at all, an unpinned weight file when
        pins exist, a pinned file missing, or a hash mismatch.
    """
    files = _files(root)
    safe_dirs = {Path(rel).parent for rel, _ in files if rel.endswith(SAFE_SUFFIXES)}
    weights = [rel for rel, _ in files if rel.endswith(SAFE_SUFFIXES)]
    # A pickle file only loads where its folder has no safetensors (loaders prefer those).
    pickles = [
        rel
        for rel, _ in files
        if rel.endswith(PICKLE_SUFFIXES) and Path(rel).parent not in safe_dirs
    ]
    if pickles and not allow_pickle:
        raise WeightsError(
            f"{root} has pickle weight files ({', '.join(pickles)}); loading them runs "
            "torch.load (unpickling, which can execute code). Convert them to safetensors, "
            f"or opt in with ?allow_pickle=1 or {PICKLE_ENV}=1 if you trust their source"
        )
    weights += pickles
    if not weights:
        raise WeightsError(
            f"no weight files (*.safetensors) in {root}"
            + ("" if allow_pickle else "; pickle weights (.bin) were not considered")
        )
    pins = dict(ref.pins)
    if "" in pins:
        if len(weights) != 1:
            raise WeightsError(
                f"#sha256=... pins a single weight file but {root} has {len(weights)}: "
                f"{', '.join(weights)}; pin each as #<file>=<sha256>,..."
            )
        pins = {weights[0]: pins.pop("")} | pins
    sums = root / SUMS_FILE
    if sums.is_file():
        for rel, digest in _read_sums(sums).items():
            if pins.setdefault(rel, digest) != digest:
                raise WeightsError(f"{rel} is pinned to two different hashes ({SUMS_FILE}, spec)")
    by_rel = dict(files)
    actual: dict[str, str] = {}
    for rel in sorted(set(weights) | set(pins)):
        if rel not in by_rel:
            raise WeightsError(f"pinned file {rel} is not in {root}")
        actual[rel] = sha256_file(by_rel[rel])
        if rel in pins and actual[rel] != pins[rel]:
            raise WeightsError(
                f"sha256 mismatch for {root / rel}: pinned {pins[rel]}, got {actual[rel]}; "
                "refusing to load weights that are not the pinned ones"
            )
    unpinned = [rel for rel in weights if pins and rel not in pins]
    if unpinned:
        raise WeightsError(f"weight files not pinned while others are: {', '.join(unpinned)}")
    config = hashlib.sha256()
    for rel, p in files:
        if rel in weights or rel.endswith(PICKLE_SUFFIXES + SAFE_SUFFIXES):
            continue
        if Path(rel).name not in _NOT_CONFIG:
            config.update(f"{rel}\0{actual.get(rel) or sha256_file(p)}\n".encode())
    log.debug("model folder %s: weights %s", root, {w: actual[w] for w in weights})
    return ModelFiles(root, {w: actual[w] for w in weights}, config.hexdigest())


def open_model(arg: str, *, kind: str, allowed: Collection[str]) -> tuple[ModelRef, ModelFiles]:
    """Parse a spec argument, resolve its folder, and check its weights; nothing loads yet."""
    ref = parse_model_arg(arg, kind=kind, allowed=allowed)
    allow = pickle_allowed(ref)
    root = resolve_model_dir(ref, allow_pickle=allow)
    return ref, inspect_model_dir(root, ref, allow_pickle=allow)


def from_pretrained_kwargs(*, allow_pickle: bool) -> dict[str, object]:
    """Keyword arguments that keep ``from_pretrained`` float32 and pickle-free.

    Also turns off transformers' weight-loading progress bars (as the local backend
    does): the embed loop has its own bar, and stderr stays readable in CI logs.
    """
    import torch
    import transformers
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    major_minor = tuple(int(x) for x in re.findall(r"\d+", transformers.__version__)[:2])
    dtype_key = "dtype" if major_minor >= (4, 56) else "torch_dtype"  # renamed in 4.56
    kwargs: dict[str, object] = {dtype_key: torch.float32}
    if not allow_pickle:
        kwargs["use_safetensors"] = True  # never falls back to torch.load of a .bin
    return kwargs


def check_st(arg: str) -> None:
    """Validate ``st:<source>[?options][#pins]`` without loading anything (ValueError if bad)."""
    parse_model_arg(arg, kind="st", allowed=COMMON_OPTIONS)


def check_hf(arg: str) -> None:
    """Validate ``hf:<source>[?options][#pins]`` without loading anything (ValueError if bad)."""
    parse_model_arg(arg, kind="hf", allowed=HF_OPTIONS)


def availability() -> tuple[bool, str]:
    """``(True, reason)``: an ``st:``/``hf:`` model is a folder or hub id given at run time."""
    return True, "needs a local folder or hub access"
