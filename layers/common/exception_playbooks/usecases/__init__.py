"""Use cases behind the API handlers: each takes ``(repos, principal, ...)`` and returns wire data.

Handlers only parse, call one use case and shape the response; business rules live here and in
``execution``. Roles are enforced by the API guard (``routes.ROUTES``) and again here.
"""
