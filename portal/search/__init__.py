"""Full-text search. Nothing outside this package imports whoosh (STYLE.md)."""


def reindex_all(progress=print) -> None:
    raise NotImplementedError("search is built in issue 3")
