"""The demo data set, kept apart from the product: `portal/` never imports this package.

demo/data.py      generate() and load_demo(): the deterministic rows behind `flask demo`
demo/text.py      the prose they are made of (names, places, announcement templates)
demo/accounts.py  demo sign-ins and filings (a feature hook: demo.<feature>.load_demo)
demo/benchmarks.py the energy-efficiency benchmark table the 两高 purchases read (a feature hook)
demo/reset.py     empty_tables(), shared with the tests, and the checks that guard --reset
demo/cli.py       the `flask demo` command, registered by the `flask.commands` entry point
"""
