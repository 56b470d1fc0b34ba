"""Exception Playbooks domain core: models, matching, execution, repositories, agents.

Everything here runs without AWS except the DynamoDB adapters in ``repository``,
which create their clients lazily.
"""
