"""On a phone the filter drawer is served open and portal.js closes it. On a slow connection the
script runs after the first paint; the list must not jump up when it does (Lighthouse measured a
layout shift of 0.38 on the trade list before portal.css hid the form until then)."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# Adds up every layout shift not caused by input, as Lighthouse's CLS does for a single window.
SHIFT_OBSERVER = """
window.__shift = 0;
new PerformanceObserver(list => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shift += entry.value;
}).observe({type: 'layout-shift', buffered: true});
"""

# Where the content after the drawer starts (the results, or the news list after its drawer).
BELOW = (
    "d => (d.nextElementSibling || d.parentElement.nextElementSibling).getBoundingClientRect().top"
)

PHONE_CSS_APPLIED = """() => {
  const summary = document.querySelector('details.filters-drawer > summary');
  return summary && summary.nextElementSibling && getComputedStyle(summary).display === 'list-item';
}"""


def _open_with_portal_js_held(browser, url):
    """The page with portal.js held back: returns (context, page, release)."""
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    held = []
    context.route("**/js/portal.js", lambda route: held.append(route))
    page = context.new_page()
    page.add_init_script(SHIFT_OBSERVER)
    page.goto(url, wait_until="commit")
    page.wait_for_function(PHONE_CSS_APPLIED)
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held, "portal.js was never requested"
    return context, page, lambda: held[0].continue_()


@pytest.mark.parametrize("path", ["/trades?variety=energy", "/news/"])
def test_the_list_does_not_move_when_the_filters_fold(browser, live_server, public_records, path):
    context, page, release = _open_with_portal_js_held(browser, live_server + path)
    try:
        drawer = page.locator("details.filters-drawer")
        form = drawer.locator("form")
        # As first drawn: the drawer is open in the HTML, but its form is not drawn.
        assert drawer.evaluate("d => d.open") is True
        assert not form.is_visible()
        top = drawer.evaluate(BELOW)
        release()
        page.wait_for_function("() => document.documentElement.hasAttribute('data-enhanced')")
        assert drawer.evaluate("d => d.open") is False
        assert drawer.evaluate(BELOW) == top
        assert page.evaluate("window.__shift") < 0.01
        # The summary still opens the form.
        drawer.locator("summary").click()
        assert form.is_visible()
    finally:
        context.close()


def test_a_drawer_with_an_error_is_drawn_open_from_the_start(browser, live_server, public_records):
    context, page, release = _open_with_portal_js_held(
        browser, live_server + "/trades?variety=energy&date_from=bad"
    )
    try:
        assert page.locator("details.filters-drawer form").is_visible()
        release()
        page.wait_for_function("() => document.documentElement.hasAttribute('data-enhanced')")
        assert page.locator("details.filters-drawer form").is_visible()
        assert page.evaluate("window.__shift") < 0.01
    finally:
        context.close()
