"""The rules of the product, Qt-free: who may manage the account, what an amount typed by a
person means, when a routing rule can be saved, when a warning is due.

Widgets display what these decide and forward what the user does; the words they show are
theirs (translated), the decision is made here and tested without Qt. Imports only the
standard library, `api` and `store`.
"""
