"""course_utils.grading.plugins.safe_html: what a feedback page keeps of a lesson, and what it never runs."""

from __future__ import annotations

import pytest

from course_utils.grading.plugins import safe_html


@pytest.mark.parametrize(
    "dangerous",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JaVaScRiPt:alert(1)">x</a>',
        '<iframe src="https://example.org"></iframe>',
        '<object data="x.swf"></object>',
        '<svg onload="alert(1)"><circle r="1"/></svg>',
        '<form action="https://example.org"><input name="x"></form>',
        '<meta http-equiv="refresh" content="0;url=https://example.org">',
        '<base href="https://example.org/">',
        '<style>body { background: url("https://example.org/track") }</style>',
        '<div style="position: fixed; background-image: url(https://example.org/track)">x</div>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
        '<img src="data:text/html;base64,PHNjcmlwdD4=">',
    ],
)
def test_nothing_that_runs_or_leaves_the_page_survives(dangerous):
    cleaned = safe_html.clean_html(dangerous).lower()
    for word in ("<script", "onerror", "onload", "javascript:", "<iframe", "<object", "<svg", "<form", "<meta",
                 "<base", "<style", "url(", "data:text", "position"):
        assert word not in cleaned, cleaned


def test_what_a_lesson_is_made_of_stays():
    lesson = (
        '<h2 id="keys">Keys<a class="anchor-link" href="#keys">¶</a></h2><p>A <strong>store</strong> maps '
        '<code>keys</code> to <em>bytes</em>.</p><ul><li>one</li></ul><table><thead><tr><th style="text-align: right;">'
        'a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>'
        '<img alt="badge" src="https://colab.research.google.com/assets/colab-badge.svg">'
        '<img src="data:image/png;base64,iVBORw0KGgo="><a href="https://zarr.dev">zarr</a><pre>x = 1</pre>'
    )
    assert safe_html.clean_html(lesson) == lesson.replace("<tbody>", "<tbody>")


def test_the_policy_comes_first_in_the_head_and_only_once():
    page = "<!DOCTYPE html><html><head><title>t</title><script src='https://cdn/x.js'></script></head><body></body></html>"
    once = safe_html.with_policy(page)
    assert once.index(safe_html.META) < once.index("<title>") and once.count(safe_html.META) == 1
    assert safe_html.with_policy(once) == once
    assert "script-src 'none'" in safe_html.POLICY and "default-src 'none'" in safe_html.POLICY
    bare = safe_html.with_policy("<!DOCTYPE html><body>x</body>")
    assert bare.startswith("<!DOCTYPE html><head>" + safe_html.META)
