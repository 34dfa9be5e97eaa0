"""Qt-free insight over the cached history: runway, spikes, spend by key, period comparison.

Every function here reads the cache with SQL and returns plain data; the window's views,
the tray, `lowdash report` and `lowdash metrics` only display what these return.
"""
