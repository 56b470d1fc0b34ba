"""Cognito pre-token-generation rule: an admin gets tokens only with MFA (TOTP) turned on.

The pool's MFA is OPTIONAL (automation users sign in from scripts with a password), and Cognito
challenges every user who has TOTP enabled on every sign-in. So "an admin always signs in with
MFA" is "no token for a member of the admin group without TOTP enabled": this trigger refuses
to issue one (Cognito then fails the sign-in or refresh). A new admin enables TOTP first (while
in another group), then is added to the admin group (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .models.enums import Role

TOTP = "SOFTWARE_TOKEN_MFA"

# (user pool id, username) -> the AdminGetUser answer
UserLookup = Callable[[str, str], dict[str, Any]]


class MfaRequired(Exception):
    """Raised inside the trigger: Cognito answers the sign-in with this message and no tokens."""


def groups_of(event: dict[str, Any]) -> list[str]:
    configuration = (event.get("request") or {}).get("groupConfiguration") or {}
    return list(configuration.get("groupsToOverride") or [])


def enforce_admin_mfa(event: dict[str, Any], lookup: UserLookup) -> dict[str, Any]:
    """Returns the event unchanged (tokens as Cognito would issue them) or raises MfaRequired."""
    if Role.ADMIN.value not in groups_of(event):
        return event
    user = lookup(event["userPoolId"], event["userName"])
    if TOTP not in (user.get("UserMFASettingList") or []):
        raise MfaRequired("Administrators must turn on an authenticator app (TOTP) before signing in")
    return event
