"""pydantic v2 models of the domain: enums, exception records, events, playbooks, packs."""
