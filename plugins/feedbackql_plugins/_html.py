"""The HTML that a `custom` field may show: an allow-list applied with nh3 (ammonia).

Allowed: text structure and formatting, lists, tables, links (http, https, mailto; given
``rel="noopener noreferrer nofollow"``) and images (http, https). Everything else is removed:
scripts, styles (tags and ``style`` attributes), event handlers, forms, frames, ``id``s,
comments, and any URL with another scheme (``javascript:``, ``data:``).
"""

from __future__ import annotations

import nh3

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
})
ATTRIBUTES = {
    "*": {"class", "dir", "lang", "title"},
    "a": {"href"},
    "img": {"alt", "height", "src", "width"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def sanitize(html: str) -> str:
    """``html`` with everything outside the allow-list removed."""
    return nh3.clean(html, tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer nofollow",
                     strip_comments=True)
