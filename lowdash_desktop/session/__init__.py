"""The open account between the cache and the widgets: its state, its sync, its schedule.

`session.Session` owns one account's reader connection, sync thread and refresh schedule and
offers the platform's cached answers as api models; `settings` declares every choice kept on
this computer (QSettings); `scheduler` decides when the next automatic sync runs.
"""

# nothing is imported here: `session.settings` is read before the first paint, and the api
# models (pydantic) that `session.session` validates with load after it
