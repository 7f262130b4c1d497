"""Training sandboxes: a database per training session (docs in training/README section of the project README).

`connections`: which database `default` means right now (a context variable); `databases`: create, copy and
drop sandbox databases on PostgreSQL and SQLite; `middleware` and `celery` carry the active session through a
request and a task.
"""
