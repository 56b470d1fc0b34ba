"""Playbook execution: the step projection, templates, approval, actions and the operations."""
