"""Every URL the portal has published keeps working when code moves between packages.

tests/url_map.txt lists each rule with its methods, as taken before the back-office views
moved to the features they serve (market entry to disclosure, compliance to its own package,
user administration to accounts). Endpoint names may change with a move; the URLs may not.
"""

from __future__ import annotations

from pathlib import Path

SNAPSHOT = Path(__file__).with_name("url_map.txt")


def _rules(app) -> set[str]:
    return {
        f"{rule.rule} {','.join(sorted(rule.methods - {'HEAD', 'OPTIONS'}))}"
        for rule in app.url_map.iter_rules()
    }


def test_every_published_url_still_has_its_rule_and_methods(app):
    published = {
        line
        for line in SNAPSHOT.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    assert len(published) > 90
    assert published - _rules(app) == set()


def test_no_two_rules_claim_the_same_url_and_method(app):
    seen: dict[tuple[str, str], str] = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            key = (rule.rule, method)
            assert key not in seen, f"{key} is served by {seen.get(key)} and {rule.endpoint}"
            seen[key] = rule.endpoint
