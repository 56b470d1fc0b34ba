"""Safe playbook authoring: lint rules, condition analysis, impact tallies and version diffs.

Pure domain code (no AWS): the use cases in ``usecases.authoring`` feed it what they read.
"""
