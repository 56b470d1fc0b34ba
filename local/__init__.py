"""The local stack: the whole system on one machine (moto, API Gateway and Cognito emulation, dispatcher).

Start it with ``python -m local.server`` (``make dev``). The reusable pieces for other test
suites are ``local.tables.create_tables``, ``local.aws_calls.count_aws_calls`` and
``local.dispatcher.Dispatcher``; none of them starts a server.
"""
