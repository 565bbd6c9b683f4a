"""The scheduling service: *when* reports run (APScheduler 3 with its job store in the state database).

``service`` holds the lease and the APScheduler instance, ``jobs`` fans a due report out
into runs and retries them, ``worker`` runs one attempt in a child process with a
wall-clock timeout, ``child`` is that process. *What* a run does stays in
:mod:`quire.pipeline`. The operator guide is ``scheduler/README.md``.
"""
