"""The interface of a Bedrock model family: what differs between Nova, Titan, Cohere, ...

A family is the request and response shape a group of model ids speaks. The shared code
(:mod:`~audit.embedders.bedrock._embedder`, ``_prepare``, ``_requests``, ``_s3``,
``_text``) asks the embedder's family, never tests a family's name. One family is one
module defining a :class:`BedrockFamily` subclass (its model specs, option checks,
fingerprint params, request bodies, answer parser, limits), registered with one line in
:mod:`audit.embedders.bedrock._families`.

Defaults here describe the simplest family (Titan): synchronous ``InvokeModel`` only, one
part per request, no purpose parameter, Nova's truncation names, no S3 sources, no text
limit checked on the client.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from audit.embedders.bedrock._async import SEGMENTED_WHY, AsyncSettings
from audit.embedders.bedrock._media import MediaSettings
from audit.embedders.bedrock._models import BodyOptions, ModelSpec, Parsed, Part
from audit.items import Item

if TYPE_CHECKING:
    from audit.embedders.bedrock._requests import Request
    from audit.embedders.bedrock._text import Finding
    from audit.embedders.bedrock._transport import Transport

#: ``([job indices], body, model id sent, mode)`` of one request a family plans.
Planned = tuple[list[int], dict[str, Any], str, str]
Jobs = list[tuple[int, Part]]
#: ``truncation`` values as the user gives them; most families spell them the same way.
SAME_TRUNCATION = {"END": "END", "START": "START", "NONE": "NONE"}


class Settings(Protocol):
    """What a family reads from its Bedrock embedder (public fields)."""

    spec: ModelSpec
    model_id: str
    async_model_id: str
    sync_invoke: bool
    dim: int
    index_purpose: str | None
    query_purpose: str | None
    truncation: str
    wire_truncation: str
    image_detail: str
    video_mode: str
    max_tokens: int | None
    video_embedding: str | None
    clip_seconds: float | None
    segments: AsyncSettings
    media: MediaSettings


def choice(name: str, value: str, allowed: Sequence[str]) -> None:
    """A ValueError naming ``name`` and the allowed values unless ``value`` is one."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


class BedrockFamily(ABC):
    """One request/response shape; subclass it, then register an instance.

    Class attributes
    ----------------
    name : str
        The registry name (``ModelSpec.family`` of its models).
    models : tuple of ModelSpec
        The model ids it serves.
    truncation : mapping
        ``truncation`` option value -> what the API is sent (the keys are the choices).
    purpose_choices : (sequence, sequence) or None
        Allowed index and query purposes (Nova ``embeddingPurpose``, Cohere
        ``input_type``); None: the model has no purpose parameter.
    purpose_defaults : (str, str)
        Index and query purposes when none is given.
    purpose_case : callable
        How a given purpose is case-normalised (``str.upper``, ``str.lower``).
    purpose_params : (str, str)
        The names the index and query purposes take in ``params`` (the fingerprint).
    batch_size : int or None
        Items per ``embed`` chunk when the family batches requests (Cohere: 96).
    max_image_bytes : int or None
        Largest image file it takes (before base64); None: only the inline limit.
    async_jobs : bool
        Whether ``async_mode`` applies (the family has a ``StartAsyncInvoke`` path).
    async_why : str
        Why items need the asynchronous path, for the "set s3_output" message.
    s3_sources : bool
        Whether ``s3://`` items are accepted.
    text_char_limit : int or None
        A documented character limit of text (logged when exceeded).
    """

    name: ClassVar[str]
    models: ClassVar[tuple[ModelSpec, ...]]
    truncation: ClassVar[Mapping[str, str]] = SAME_TRUNCATION
    purpose_choices: ClassVar[tuple[Sequence[str], Sequence[str]] | None] = None
    purpose_defaults: ClassVar[tuple[str, str]] = ("", "")
    purpose_case: ClassVar[Callable[[str], str]] = staticmethod(str.upper)
    purpose_params: ClassVar[tuple[str, str]] = ("index_purpose", "query_purpose")
    batch_size: ClassVar[int | None] = None
    max_image_bytes: ClassVar[int | None] = None
    async_jobs: ClassVar[bool] = False
    async_why: ClassVar[str] = SEGMENTED_WHY
    s3_sources: ClassVar[bool] = False
    text_char_limit: ClassVar[int | None] = None

    # -- options ----------------------------------------------------------------------
    def purposes(
        self, spec: ModelSpec, index: str | None, query: str | None
    ) -> tuple[str | None, str | None]:
        """The index and query purposes, defaulted, case-normalised and validated."""
        if not self.purpose_choices:
            if index is not None or query is not None:
                raise ValueError(
                    f"{spec.model_id} has no purpose/input-type parameter: index and query "
                    "vectors are the same; index_purpose/query_purpose do not apply"
                )
            return None, None
        index = self.purpose_case(index or self.purpose_defaults[0])
        query = self.purpose_case(query or self.purpose_defaults[1])
        choice("index_purpose", index, self.purpose_choices[0])
        choice("query_purpose", query, self.purpose_choices[1])
        return index, query

    def wire_truncation(self, truncation: str) -> str:
        """The truncation setting as the family's API spells it."""
        choice("truncation", truncation, tuple(self.truncation))
        return self.truncation[truncation]

    def options(
        self, max_tokens: int | None, video_embedding: str | None, clip_seconds: float | None
    ) -> tuple[int | None, str | None, float | None]:
        """Validate the family-only options (default: none given)."""
        refuse_max_tokens(max_tokens)
        refuse_clip_options(video_embedding, clip_seconds)
        return None, None, None

    def sync_invoke(self, model_id: str, spec: ModelSpec) -> bool:
        """Whether ``InvokeModel`` takes ``model_id`` (else every item goes async)."""
        return True

    def fingerprint_params(self, emb: Settings) -> dict[str, Any]:
        """What enters the fingerprint: the purposes (if any), then :meth:`params`."""
        out: dict[str, Any] = {}
        if self.purpose_choices:
            index, query = self.purpose_params
            out |= {index: emb.index_purpose, query: emb.query_purpose}
        return out | self.params(emb)

    @abstractmethod
    def params(self, emb: Settings) -> dict[str, Any]:
        """The family's other output-changing settings (they enter the fingerprint)."""

    # -- items to parts -----------------------------------------------------------------
    def image_detail(self, detail: str) -> str:
        """The detail level an image part carries (only Nova sends one)."""
        return "STANDARD_IMAGE"

    def goes_async(self, kind: str, mode: str, sync_invoke: bool) -> bool:
        """Whether a text/image/S3 part of ``kind`` takes the asynchronous path."""
        return False

    def s3_part(self, item: Item, uri: str, key: str, image_detail: str) -> Part:
        """The part of an S3 item (only called when :attr:`s3_sources`)."""
        raise AssertionError(f"{self.name} takes no S3 sources")

    def media_job(
        self, item: Item, emb: Settings, mode: str
    ) -> tuple[Part | None, str | None, bool]:
        """``(part, refused label, asynchronous)`` of an audio/video item."""
        raise AssertionError(f"{self.name} declares no audio/video")  # modality checked

    def refusal(self, modality: str, refused: list[str]) -> str:
        """The message for media items ``async_mode=never`` refuses."""
        raise AssertionError(f"{self.name} refuses no media")

    def check_async(self, emb: Settings, items: list[Item], jobs: Jobs, mode: str) -> None:
        """Refuse a batch the configuration cannot send (default: every batch is fine)."""
        return None

    # -- requests and answers -----------------------------------------------------------
    @abstractmethod
    def body(self, part: Part, opts: BodyOptions) -> dict[str, Any]:
        """The ``InvokeModel`` body of one part."""

    def async_request(
        self, part: Part, opts: BodyOptions, emb: Settings
    ) -> tuple[dict[str, Any], str, str]:
        """``(modelInput, model id, mode)`` of an asynchronous job for ``part``."""
        raise AssertionError(f"{self.name} has no asynchronous path")

    def plan(
        self, jobs: Jobs, segmented: set[int], opts: BodyOptions, emb: Settings, ids: list[str]
    ) -> list[Planned]:
        """The requests of a batch: one per part by default.

        Raises
        ------
        ItemError
            For a part no request can carry.
        """
        out: list[Planned] = []
        for n, (_, part) in enumerate(jobs):
            if n in segmented:
                body, model_id, mode = self.async_request(part, opts, emb)
            else:
                body, model_id, mode = self.body(part, opts), emb.model_id, "sync"
            out.append(([n], body, model_id, mode))
        return out

    @abstractmethod
    def parse(self, emb: Settings, req: Request, payload: Any) -> list[Parsed]:
        """One :class:`Parsed` per part of a synchronous request's answer."""

    def run_async(self, emb: Settings, transport: Transport, req: Request) -> list[Parsed]:
        """Run an asynchronous request to its end; one :class:`Parsed` per part."""
        raise AssertionError(f"{self.name} has no asynchronous path")

    # -- text limits ----------------------------------------------------------------------
    def limit(self, max_tokens: int | None) -> str | None:
        """The documented text limit, in words (None: not checked on the client)."""
        return None

    def text_finding(
        self, item_id: str, text: str, mode: str, max_tokens: int | None
    ) -> Finding | None:
        """A finding when ``text`` is (or may be) over the limit; ``mode`` as sent."""
        return None


def refuse_max_tokens(max_tokens: int | None) -> None:
    """``max_tokens`` is Cohere's; refuse it for other families."""
    if max_tokens is not None:
        raise ValueError("max_tokens applies to Cohere Embed v4 only")


def refuse_clip_options(video_embedding: str | None, clip_seconds: float | None) -> None:
    """``video_embedding`` and ``clip_seconds`` are Marengo's; refuse them elsewhere."""
    if video_embedding is not None or clip_seconds is not None:
        raise ValueError("video_embedding and clip_seconds apply to Marengo only")
