"""mme-audit: Responsible-AI audits of multimodal embedding models.

Importing this package is cheap (no torch); heavy parts load lazily.
"""

from audit._version import __version__
from audit.items import BadItemsError, Item, ItemError, Modality

__all__ = ["BadItemsError", "Item", "ItemError", "Modality", "__version__"]
