"""Frozen-app entry: runs lowdash_desktop/__main__.py as `python -m lowdash_desktop` would."""

import runpy

runpy.run_module("lowdash_desktop", run_name="__main__", alter_sys=True)
