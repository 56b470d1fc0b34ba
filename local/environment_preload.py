"""Imported only by the fork server of ``local.environments``: warms every handler once.

Importing this module has that side effect on purpose; the environments forked afterwards
inherit the loaded handlers instead of importing them again (about a second each).
"""

from local.environments import preload

try:
    preload()
except Exception:  # pragma: no cover - a broken handler is reported again on its first request
    import logging

    logging.getLogger("local.environments").exception("preloading the handlers failed")
