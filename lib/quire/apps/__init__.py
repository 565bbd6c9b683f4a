"""Stakeholder apps: interactive variants of the reports, served by ``quire serve`` (Voilà).

One module per app (``executive``, ``client``, ``cohort``, ``experiment``), each with an
``app()`` that an app notebook in ``notebooks/apps/`` calls as its last expression. The
shared machinery (validated pickers, recompute on change, the tenant pin) is in
:mod:`quire.apps.base`.
"""

APPS = ("executive", "client", "cohort", "experiment")
