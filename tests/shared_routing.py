"""One URL router for the tests' many apps.

Each test builds its own app, and each app adds its 206 rules to a new Werkzeug map: binding every
rule to the map and adding it to the map's matcher (its state machine) were most of the 5 ms an app
took to build. The rules and the matcher depend only on the rules added and on the map's
settings, so `SharedRuleMap` builds them once for each such set and lets every later map with the
same set use them. A map that gets another rule after it has been used (a test adding a route of
its own) first builds a matcher of its own from its own rules, so nothing leaks into other apps.
Production builds one app per process and does not use this class.
"""

from __future__ import annotations

from werkzeug.routing import Map, Rule
from werkzeug.routing.matcher import StateMachineMatcher

# (settings, rules) → (matcher, rules by endpoint) of the first map built with them
_BUILT: dict[tuple, tuple[StateMachineMatcher, dict]] = {}


def _rule_key(rule: Rule) -> tuple:
    return (
        rule.rule,
        rule.endpoint,
        frozenset(rule.methods) if rule.methods is not None else None,
        tuple(sorted((name, repr(value)) for name, value in (rule.defaults or {}).items())),
        rule.subdomain,
        rule.host,
        rule.build_only,
        rule.strict_slashes,
        rule.merge_slashes,
        repr(rule.redirect_to),
        rule.alias,
        rule.websocket,
        getattr(rule, "provide_automatic_options", None),
    )


class SharedRuleMap(Map):
    """A Werkzeug map whose bound rules and matcher are shared with every map of the same rules.

    It collects the rules added until it is first used, then takes the rules and matcher built
    for that set (building them if it is the first); another rule after that gives it its own.
    """

    def __init__(self, *args, **kwargs):
        self._own_rules: list[Rule] = []  # as added; bound to this map once it builds its own
        self._state = "collecting"  # then "sharing", then (after a late rule) "own"
        super().__init__(*args, **kwargs)

    def _settings_key(self) -> tuple:
        return (
            tuple(sorted(self.converters.items())),
            self.default_subdomain,
            self.strict_slashes,
            self.merge_slashes,
            self.redirect_defaults,
            self.host_matching,
            self.sort_parameters,
            self.sort_key,
        )

    def add(self, rulefactory) -> None:
        rules = list(rulefactory.get_rules(self))
        if self._state == "collecting":
            self._own_rules.extend(rules)
            self._remap = True
            return
        if self._state == "sharing":
            self._build_own()
        for rule in rules:
            Map.add(self, rule)
            self._own_rules.append(rule)

    def update(self) -> None:
        if self._state == "collecting":
            self._settle()
        super().update()

    @property
    def _rules(self) -> list[Rule]:
        self.update()
        return [rule for rules in self._rules_by_endpoint.values() for rule in rules]

    def _settle(self) -> None:
        key = (self._settings_key(), tuple(_rule_key(rule) for rule in self._own_rules))
        built = _BUILT.get(key)
        if built is None:
            for rule in self._own_rules:
                Map.add(self, rule)
            Map.update(self)
            _BUILT[key] = (self._matcher, self._rules_by_endpoint)
        else:
            matcher, by_endpoint = built
            self._matcher = matcher
            self._rules_by_endpoint = {endpoint: list(r) for endpoint, r in by_endpoint.items()}
            self._remap = False
        self._state = "sharing"

    def _build_own(self) -> None:
        """Leave the shared rules: bind this map's own and build its own matcher from them."""
        self._matcher = StateMachineMatcher(self.merge_slashes)
        self._rules_by_endpoint = {}
        for rule in self._own_rules:
            if rule.map is None:
                rule.bind(self)
            if not rule.build_only:
                self._matcher.add(rule)
            self._rules_by_endpoint.setdefault(rule.endpoint, []).append(rule)
        self._remap = True
        self._state = "own"
