"""Feedback pages that cannot run script: sanitised content, and a strict Content-Security-Policy.

A feedback page shows the student's notebook: their markdown, and the
outputs of their code (which can be any HTML). Opened by the instructor or
the student, a ``<script>`` in it would run with the page. Two layers stop
that, and either alone would do:

1. **sanitising** (nbconvert's ``HTMLExporter.sanitize_html``, with
   :func:`clean_html` as its ``clean_html`` filter, and :class:`SafeMarkdown`
   as its ``markdown2html`` filter, since nbgrader's feedback template renders
   markdown cells without nbconvert's cleaning): markdown and HTML
   outputs keep what a lesson uses (headings, paragraphs, lists, tables,
   code, links, images, emphasis) and lose everything else: scripts,
   styles, frames, forms, event handlers (``onerror=``), ``javascript:``
   links; JavaScript outputs are left out altogether (nbconvert's own
   switch). Images may come from ``https:`` or be embedded (``data:image/...``);
2. **a Content-Security-Policy** (:data:`POLICY`, put first in the page's
   ``<head>`` by :func:`with_policy`): the browser runs no script at all,
   whatever got through, loads no frames, objects or fonts from elsewhere,
   and sends no form.

Math in markdown is shown as its TeX source (MathJax is a script).
"""

from __future__ import annotations

import re

import bleach
from bleach.css_sanitizer import CSSSanitizer
from jinja2.utils import _PassArg
from traitlets.config import LoggingConfigurable

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
    "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var",
})
"""What lesson markdown and ordinary outputs (pandas tables, rich text) are made of."""

IMAGE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*$", re.I)
SAFE_LINK = re.compile(r"^(https?:|mailto:|#|[^:]*$)", re.I)
SAFE_IMAGE = re.compile(r"^(https:|[^:]*$)", re.I)


def _attribute(tag: str, name: str, value: str) -> bool:
    value = value.strip()
    if name in ("class", "id", "title"):
        return True
    if tag == "a":
        return name == "href" and bool(SAFE_LINK.match(value))
    if tag == "img":
        if name == "src":
            return bool(IMAGE_DATA.match(value) or SAFE_IMAGE.match(value))
        return name in ("alt", "width", "height")
    if tag in ("td", "th"):
        return name in ("colspan", "rowspan", "align", "style")
    if tag in ("col", "colgroup"):
        return name == "span"
    if tag == "ol":
        return name == "start"
    if tag in ("div", "span", "table", "tr", "p"):
        return name == "style"
    return False


_CSS = CSSSanitizer(allowed_css_properties=["text-align", "vertical-align", "font-weight", "font-style",
                                            "white-space", "padding", "margin", "border", "color",
                                            "background-color", "width", "max-width"])
_CLEANER = bleach.Cleaner(
    tags=TAGS,
    attributes=_attribute,
    protocols=["http", "https", "mailto", "data"],
    strip=True,
    strip_comments=True,
    css_sanitizer=_CSS,
)


_CONTAINERS = re.compile(r"<(script|style|iframe|object|embed|template|noscript|textarea)\b.*?</\1\s*>",
                         re.I | re.S)


def clean_html(element) -> str:
    """``element`` (HTML text) with only the tags and attributes of :data:`TAGS` that cannot run script.

    Scripts, styles and frames go with their content; other tags not
    allowed go, their text stays.
    """
    text = element.decode() if isinstance(element, bytes) else str(element)
    return _CLEANER.clean(_CONTAINERS.sub("", text))


POLICY = (
    "default-src 'none'; script-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; "
    "form-action 'none'; img-src data: https:; style-src 'unsafe-inline'; font-src data:"
)
"""The page's Content-Security-Policy: no script, no frames or objects, images embedded or over https."""

META = f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'


def with_policy(page: str) -> str:
    """``page`` (a whole HTML document) with :data:`META` as the first thing in its ``<head>``."""
    page = page.replace(META, "")
    match = re.search(r"<head[^>]*>", page, flags=re.I)
    if match:
        return page[: match.end()] + META + page[match.end():]
    doctype = re.match(r"\s*<!DOCTYPE[^>]*>", page, flags=re.I)
    position = doctype.end() if doctype else 0
    return page[:position] + f"<head>{META}</head>" + page[position:]


class SafeMarkdown(LoggingConfigurable):
    """The ``markdown2html`` filter of a feedback page: the exporter's own rendering, then :func:`clean_html`.

    nbconvert instantiates it with the exporter as ``parent`` (it is a
    configurable class named in ``HTMLExporter.filters``).
    """

    jinja_pass_arg = _PassArg.context  # the template context, as the exporter's own filter gets it

    def __call__(self, context, source: str) -> str:
        return clean_html(self.parent.markdown2html(context, source))
