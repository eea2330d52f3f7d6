"""The dashboard's pages, listed once: the navigation (app.py) and the links from the
overview to a suite's page (``SUITE_PAGES``) are both built from :data:`PAGES`.

To add a page: write ``dashboard/views/<name>.py`` and add one :class:`Page` line here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """One page of the dashboard.

    Attributes
    ----------
    path : str
        The page script, relative to the ``dashboard`` folder (``views/<name>.py``).
    title : str
        Its title in the navigation.
    url : str
        Its URL path (the first page is the default, at the root URL).
    suite : str, optional
        The suite whose results the page shows, if it is one suite's page.
    """

    path: str
    title: str
    url: str
    suite: str | None = None


#: Every page, in navigation order; the first is the default.
PAGES: tuple[Page, ...] = (
    Page("views/overview.py", "Overview", "overview"),
    Page("views/bias.py", "Bias", "bias", suite="bias"),
    Page("views/retrieval.py", "Retrieval", "retrieval", suite="retrieval"),
    Page("views/safety.py", "Safety", "safety", suite="safety"),
    Page("views/redteam.py", "Red team", "redteam", suite="redteam"),
    Page("views/compare.py", "Compare", "compare"),
)
#: Suite name -> the script of its page.
SUITE_PAGES: dict[str, str] = {p.suite: p.path for p in PAGES if p.suite is not None}
