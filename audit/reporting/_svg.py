"""Make a chart's SVG safe to inline in the audit report: an allow-list sanitiser.

The report is a single HTML file a reviewer opens from disk, so an inlined SVG runs with
the page's rights: a ``<script>``, an ``onload=`` handler, a ``<foreignObject>`` holding
HTML or an ``href`` to the network would all execute or fetch. The charts are drawn by
vl-convert from report strings (check and group names), which it writes as escaped text;
this module does not trust that and re-builds the document from parsed elements:

- the text is parsed with the standard XML parser after refusing any DTD (no entities,
  so no entity expansion and no external entity);
- every element must be an SVG element on :data:`ALLOWED_ELEMENTS` and every attribute
  on :data:`ALLOWED_ATTRIBUTES`, otherwise :class:`UnsafeSvgError` names it (fail closed:
  nothing is silently dropped, so a chart never loses a mark without a trace);
- attribute values must not reference anything but a fragment of the same document
  (``href="#id"``, ``url(#id)``) and must not hold a ``javascript:`` or ``data:`` URL;
- the re-serialised output escapes every text node and attribute value again.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_ELEMENTS", "UnsafeSvgError", "sanitize_svg"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

#: Shapes, text, grouping and paint servers: what a Vega chart draws. No script, style,
#: foreignObject, image, use of external files, animation (``set``/``animate`` can write
#: an ``href``) or ``a`` (a link would leave the file).
ALLOWED_ELEMENTS: frozenset[str] = frozenset(
    {
        "svg",
        "g",
        "defs",
        "title",
        "desc",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "clipPath",
        "linearGradient",
        "radialGradient",
        "stop",
        "pattern",
        "mask",
    }
)

#: Geometry, presentation and accessibility attributes. Event handlers (``on*``),
#: ``style`` (it can hold ``url(http...)`` and ``@import``) and ``src`` are absent.
ALLOWED_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "version",
        "class",
        "id",
        "role",
        "aria-label",
        "aria-hidden",
        "aria-roledescription",
        "width",
        "height",
        "viewBox",
        "preserveAspectRatio",
        "x",
        "y",
        "x1",
        "x2",
        "y1",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "dx",
        "dy",
        "d",
        "points",
        "transform",
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-width",
        "stroke-opacity",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "opacity",
        "display",
        "visibility",
        "pointer-events",
        "clip-path",
        "clip-rule",
        "mask",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "font-variant",
        "text-anchor",
        "dominant-baseline",
        "alignment-baseline",
        "letter-spacing",
        "text-decoration",
        "offset",
        "stop-color",
        "stop-opacity",
        "gradientUnits",
        "gradientTransform",
        "patternUnits",
        "patternTransform",
        "clipPathUnits",
        "maskUnits",
        "fx",
        "fy",
        "href",  # only "#fragment" (checked below)
    }
)

# url(...) that is not a same-document fragment, and script/data schemes anywhere.
_URL_REF = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.IGNORECASE)
_BAD_SCHEME = re.compile(r"(?:java|vb)script\s*:|data\s*:", re.IGNORECASE)
_DTD = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


class UnsafeSvgError(ValueError):
    """An SVG with an element, attribute or reference the report does not inline."""


def _local(name: str) -> tuple[str | None, str]:
    # ElementTree spells a namespaced name "{uri}local".
    if name.startswith("{"):
        uri, _, local = name[1:].partition("}")
        return uri, local
    return None, name


def _check_attr(tag: str, name: str, value: str) -> str:
    uri, local = _local(name)
    if uri == XLINK_NS and local == "href":
        local = "href"  # xlink:href is read as href (and checked as one)
    elif uri is not None:
        raise UnsafeSvgError(f"<{tag}>: attribute {name!r} is in a foreign namespace")
    if local not in ALLOWED_ATTRIBUTES:
        raise UnsafeSvgError(f"<{tag}>: attribute {local!r} is not allowed")
    if local == "href" and not value.startswith("#"):
        raise UnsafeSvgError(f"<{tag}>: href {value[:60]!r} is not a same-document fragment")
    if _URL_REF.search(value):
        raise UnsafeSvgError(f"<{tag}> {local}: url() {value[:60]!r} is not a fragment")
    # Text attributes (aria-label) may quote a report string that reads "data:"; they are
    # inert. Only attributes a renderer dereferences are checked for schemes.
    if local not in ("aria-label", "aria-roledescription", "class", "id") and _BAD_SCHEME.search(
        value
    ):
        raise UnsafeSvgError(f"<{tag}> {local}: value {value[:60]!r} holds a URL scheme")
    return local


def _copy(src: ET.Element) -> ET.Element:
    uri, tag = _local(src.tag)
    if uri != SVG_NS:
        raise UnsafeSvgError(f"element {src.tag!r} is not an SVG element")
    if tag not in ALLOWED_ELEMENTS:
        raise UnsafeSvgError(f"element <{tag}> is not allowed")
    out = ET.Element(tag)  # unqualified; the root declares SVG as the default namespace
    for name, value in src.attrib.items():
        out.set(_check_attr(tag, name, value), value)
    out.text, out.tail = src.text, src.tail
    for child in src:
        out.append(_copy(child))
    return out


def sanitize_svg(svg: str) -> str:
    """Check an SVG against the allow-lists and return it re-serialised.

    Parameters
    ----------
    svg : str
        An SVG document (one ``<svg>`` root in the SVG namespace).

    Returns
    -------
    str
        The same drawing, rebuilt from the allowed elements and attributes, with every
        text node and attribute value escaped; no XML declaration, so it can be inlined.

    Raises
    ------
    UnsafeSvgError
        If the text has a DTD, is not well-formed XML, or holds an element, attribute or
        reference outside the allow-lists (the message names it).
    """
    if _DTD.search(svg):
        raise UnsafeSvgError("SVG with a DTD or entity declaration is refused")
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as exc:
        raise UnsafeSvgError(f"SVG is not well-formed XML: {exc}") from exc
    if _local(root.tag) != (SVG_NS, "svg"):
        raise UnsafeSvgError(f"root element {root.tag!r} is not <svg>")
    clean = _copy(root)
    clean.tail = None
    # Written as a plain attribute (ET.register_namespace would change a process-wide map).
    clean.set("xmlns", SVG_NS)
    return ET.tostring(clean, encoding="unicode")
