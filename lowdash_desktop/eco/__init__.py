"""Qt-free energy/carbon methodology shared by the app and the demo platform.

The package imports nothing itself: `methodology` loads ecologits and pydantic (~0.35 s), and
the `lowdash` command line imports `eco.command` to build its parser on every start. Import
from the modules: `lowdash_desktop.eco.methodology`, `.impact`, `.command`.
"""
