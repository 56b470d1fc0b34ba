"""CDK constructs of Exception Playbooks, one module per concern (data, api, agents, web, monitoring).

Named so it never shadows the ``constructs`` library on ``sys.path``.
"""
