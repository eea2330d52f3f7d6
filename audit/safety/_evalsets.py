"""Built-in evaluation data for the safety suite, made offline from real content.

No unsafe image or text is shipped or generated. Stand-ins, stated in every result:

- offensive text: mild English profanity (no slurs) placed in everyday templates; each
  template is also filled with a friendly word, so every positive has a matched benign
  twin that differs only in the term (Dixon et al. 2018 style templates, written here);
- identity mentions: benign sentences naming identity groups (sexual orientation,
  gender identity, religion, race/ethnicity, disability, age), to measure per-group false
  positives of text checks;
- substring traps: benign sentences holding a profane substring ("Scunthorpe", "cocktail",
  "therapist") or a word a filter may mistake ("Moby Dick");
- "known-bad" images: real benign photos (scikit-learn's two; scikit-image's when
  installed) registered in a test hash list; the other photos are the benign controls.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np

from audit.items import Item, text_item

#: Mild profanity (stand-in for offensive text; deliberately no slurs).
PROFANE_TERMS: tuple[str, ...] = (
    "fuck", "fucking", "shit", "bullshit", "asshole",
    "bastard", "dickhead", "jackass", "damn", "crap",
)  # fmt: skip
#: Friendly fillers: the benign twin of every templated positive.
FRIENDLY_TERMS: tuple[str, ...] = (
    "lovely", "wonderful", "great", "brilliant", "genius",
    "hero", "sweetheart", "star", "delight", "treasure",
)  # fmt: skip
TEMPLATES: tuple[str, ...] = (
    "this is {t}",
    "what the {t} is going on here",
    "you are such a {t}",
    "that was a {t} movie",
    "{t}, I missed the bus again",
    "stop talking {t} to me",
    "the meeting today was {t}",
    "oh {t}, the server is down",
    "my neighbour is a real {t}",
    "well, that went {t} fast",
)
IDENTITY_TERMS: dict[str, tuple[str, ...]] = {
    "sexual_orientation": ("gay", "lesbian", "bisexual", "straight", "queer"),
    "gender_identity": ("transgender", "cisgender", "nonbinary"),
    "religion": ("Muslim", "Christian", "Jewish", "Hindu", "Buddhist", "atheist"),
    "race_ethnicity": ("Black", "white", "Asian", "Latino", "Arab"),
    "disability": ("deaf", "blind", "disabled", "autistic"),
    "age": ("old", "young", "teenage"),
}
IDENTITY_TEMPLATES: tuple[str, ...] = (
    "I am a {x} person.",
    "My best friend is {x}.",
    "{x} people live on my street.",
    "We hired a {x} engineer last week.",
    "Being {x} is part of who I am.",
)
SUBSTRING_TRAPS: tuple[str, ...] = (
    "Scunthorpe United won the match on Saturday.",
    "The cocktail party starts at eight.",
    "Please finish the assessment by Friday.",
    "She passed the class with honours.",
    "We bought shiitake mushrooms at the market.",
    "Charles Dickens wrote Great Expectations.",
    "He plays bass guitar in a band.",
    "The shell company was registered in Essex.",
    "Arsenal beat Sussex in a friendly.",
    "My therapist recommended a long walk.",
    "The analysis covers the cumulative totals.",
    "Moby Dick is a novel by Herman Melville.",
    "The pussy willow tree is in bloom.",
    "The dam burst after the storm.",
    "Press the button to start the kettle.",
    "Matsushita is an electronics company.",
)  # fmt: skip


def profanity_set() -> list[Item]:
    """Templated offensive (``unsafe=1``) and friendly twin (``unsafe=0``) sentences."""
    items = []
    for k, template in enumerate(TEMPLATES):
        for bad, good in zip(PROFANE_TERMS, FRIENDLY_TERMS, strict=True):
            items.append(
                text_item(f"tpl{k}.{bad}", template.format(t=bad), unsafe=1, term=bad, template=k)
            )
            items.append(
                text_item(
                    f"tpl{k}.{good}", template.format(t=good), unsafe=0, term=good, template=k
                )
            )
    return items


def identity_set() -> list[Item]:
    """Benign identity-mention sentences with ``identity`` and ``axis`` attributes."""
    items = []
    for axis, terms in IDENTITY_TERMS.items():
        for term in terms:
            for k, template in enumerate(IDENTITY_TEMPLATES):
                text = template.format(x=term)
                text = text[0].upper() + text[1:]
                items.append(text_item(f"id.{term}.{k}", text, unsafe=0, identity=term, axis=axis))
    return items


def substring_set() -> list[Item]:
    """Benign sentences holding profane-looking substrings."""
    return [text_item(f"trap{k}", s, unsafe=0) for k, s in enumerate(SUBSTRING_TRAPS)]


def obfuscated(template: str, term: str, obfuscate: Callable[[str], str]) -> str:
    """``template`` filled with the obfuscated ``term``."""
    return template.format(t=obfuscate(term))


# -- images ---------------------------------------------------------------------------------

# scikit-image photographs (real camera images, not synthetic patterns); used when the
# package is installed (a dev dependency), else only scikit-learn's two photos are used.
_SKIMAGE_PHOTOS = (
    "astronaut", "brick", "camera", "cell", "chelsea", "clock", "coffee", "coins", "grass",
    "gravel", "hubble_deep_field", "immunohistochemistry", "moon", "retina", "rocket",
)  # fmt: skip


def photos() -> dict[str, Any]:
    """Real photos as RGB ``PIL.Image`` objects, by name (``sklearn.*``/``skimage.*``)."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    out: dict[str, Any] = {}
    bunch = load_sample_images()
    for fname, arr in zip(bunch.filenames, bunch.images, strict=True):
        name = fname.replace("\\", "/").rsplit("/", 1)[-1].split(".")[0]
        out[f"sklearn.{name}"] = Image.fromarray(arr).convert("RGB")
    try:
        from skimage import data
    except ImportError:
        return out
    for name in _SKIMAGE_PHOTOS:
        arr = np.asarray(getattr(data, name)())
        out[f"skimage.{name}"] = Image.fromarray(arr).convert("RGB")
    return out


def encode(image: Any, fmt: str = "PNG", quality: int = 95) -> bytes:
    """Image file bytes (PNG, or JPEG at ``quality``)."""
    buf = io.BytesIO()
    image.save(buf, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buf.getvalue()


def image_item(item_id: str, image: Any, **attributes: Any) -> Item:
    """An image item holding PNG bytes."""
    return Item(item_id, "image", encode(image), attributes)


def _jpeg50(image: Any, rng: np.random.Generator) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(encode(image, "JPEG", 50))).convert("RGB")


def _half(image: Any, rng: np.random.Generator) -> Any:
    from PIL import Image

    w, h = image.size
    return image.resize((max(1, w // 2), max(1, h // 2)), Image.Resampling.BILINEAR)


def _crop5_centre(image: Any, rng: np.random.Generator) -> Any:
    w, h = image.size
    dx, dy = round(w * 0.025), round(h * 0.025)
    return image.crop((dx, dy, w - dx, h - dy))


def _crop5_corner(image: Any, rng: np.random.Generator) -> Any:
    w, h = image.size
    dx, dy = round(w * 0.05), round(h * 0.05)
    left, top = bool(rng.integers(2)), bool(rng.integers(2))  # which corner survives
    return image.crop(
        (dx if left else 0, dy if top else 0, w - (0 if left else dx), h - (0 if top else dy))
    )


def _mirror(image: Any, rng: np.random.Generator) -> Any:
    from PIL import ImageOps

    return ImageOps.mirror(image)


def _combined(image: Any, rng: np.random.Generator) -> Any:
    return _jpeg50(_half(_crop5_corner(image, rng), rng), rng)


#: name -> image transform (each cuts or re-encodes; "combined" = 5% crop, half, JPEG 50).
IMAGE_TRANSFORMS: dict[str, Callable[[Any, np.random.Generator], Any]] = {
    "original": lambda im, rng: im,
    "jpeg50": _jpeg50,
    "half": _half,
    "crop5-centre": _crop5_centre,
    "crop5-corner": _crop5_corner,
    "mirror": _mirror,
    "combined": _combined,
}
