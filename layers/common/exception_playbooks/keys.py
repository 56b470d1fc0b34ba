"""DynamoDB key helpers. The only place keys are built; every one takes the tenant first.

State table (pk, sk):
  exception        T#{tenant}#EX#{id}            | EXCEPTION
  agent marker     T#{tenant}#EX#{id}            | AGENT#{agent}#{trigger_event_id}
  playbook version T#{tenant}#PB#{id}            | V#{version:010d}
  playbook latest  T#{tenant}#PB#{id}            | LATEST
  playbook stats   T#{tenant}#PB#{id}            | STATS (completions, durations), STATS#nn (counters)
  policy pack      T#{tenant}#PACK#POLICY        | V#{version:010d} and LATEST
  domain pack      T#{tenant}#PACK#DOMAIN#{dom}  | V#{version:010d} and LATEST
  packs head       T#{tenant}#PACK#HEAD          | HEAD  (``generation``: +1 on every pack write)
  idempotency      T#{tenant}#IDEMP#{scope}#{key}| IDEMPOTENCY
  candidate        T#{tenant}#CAND#{dom or ~any} | {playbook_id}  (matching summary of an active playbook)
  catalogue stamps T#{tenant}#CATALOGUE          | CATALOGUE      (moves with every candidate change)
  candidate bundle T#{tenant}#CATALOGUE          | BUNDLE#{dom or ~any} (a partition's summaries, zlib)
  playbook draft   T#{tenant}#DRAFT#{draft_id}    | DRAFT   (never in the candidates index)
GSI ``by_tenant`` (gsi1pk, gsi1sk):
  exceptions       T#{tenant}#EXCEPTIONS         | {created_at}#{id}   (whole items, newest
                                                   first: bulk matching; the API list reads
                                                   the queue GSIs)
  active playbooks T#{tenant}#PLAYBOOKS_ACTIVE   | {domain or ~any}#{id} (LATEST items only, sparse)
GSI ``playbooks`` (gsi2pk, gsi2sk):
  every playbook   T#{tenant}#PLAYBOOKS          | {id}  (LATEST items: the authoring list)
  every draft      T#{tenant}#DRAFTS             | {draft_id}  (the drafts list)
Queue GSIs of exception items (slim: the list columns only, never the playbook copy):
  ``queue_created`` (gsi3pk, gsi3sk)   T#{tenant}#QUEUE      | {created_at}#{id}          (age)
  ``queue_severity`` (gsi4pk, gsi4sk)  T#{tenant}#QUEUE      | {rank}#{created_at}#{id}   (severity)
  ``queue_sla`` (gsi5pk, gsi5sk)       T#{tenant}#QUEUE_OPEN | {sla_deadline or ~}#{id}   (SLA;
                                   sparse: only exceptions not yet resolved or closed)
Events table (pk, seq):
  timeline event   T#{tenant}#EX#{id}            | seq (number)
"""

from __future__ import annotations

SEP = "#"
ANY_DOMAIN = "~any"


def _tenant(tenant_id: str) -> str:
    if not tenant_id or SEP in tenant_id:
        raise ValueError("tenant id is required and may not contain '#'")
    return f"T{SEP}{tenant_id}"


def version_sk(version: int) -> str:
    return f"V{SEP}{version:010d}"


LATEST_SK = "LATEST"
EXCEPTION_SK = "EXCEPTION"
STATS_SK = "STATS"
IDEMPOTENCY_SK = "IDEMPOTENCY"
CATALOGUE_SK = "CATALOGUE"
DRAFT_SK = "DRAFT"


def exception_pk(tenant_id: str, exception_id: str) -> str:
    return f"{_tenant(tenant_id)}{SEP}EX{SEP}{exception_id}"


def exception_key(tenant_id: str, exception_id: str) -> dict[str, str]:
    return {"pk": exception_pk(tenant_id, exception_id), "sk": EXCEPTION_SK}


def agent_marker_key(tenant_id: str, exception_id: str, agent: str, trigger_event_id: str) -> dict[str, str]:
    return {"pk": exception_pk(tenant_id, exception_id), "sk": f"AGENT{SEP}{agent}{SEP}{trigger_event_id}"}


def exceptions_list_pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}{SEP}EXCEPTIONS"


def exceptions_list_sk(created_at: str, exception_id: str) -> str:
    return f"{created_at}{SEP}{exception_id}"


def playbook_pk(tenant_id: str, playbook_id: str) -> str:
    return f"{_tenant(tenant_id)}{SEP}PB{SEP}{playbook_id}"


def playbook_version_key(tenant_id: str, playbook_id: str, version: int) -> dict[str, str]:
    return {"pk": playbook_pk(tenant_id, playbook_id), "sk": version_sk(version)}


def playbook_latest_key(tenant_id: str, playbook_id: str) -> dict[str, str]:
    return {"pk": playbook_pk(tenant_id, playbook_id), "sk": LATEST_SK}


def playbook_stats_key(tenant_id: str, playbook_id: str) -> dict[str, str]:
    return {"pk": playbook_pk(tenant_id, playbook_id), "sk": STATS_SK}


def playbook_stats_shard_key(tenant_id: str, playbook_id: str, shard: int) -> dict[str, str]:
    """One of the counter shards of a playbook's stats (``STATS#nn``), beside the main item."""
    return {"pk": playbook_pk(tenant_id, playbook_id), "sk": f"{STATS_SK}{SEP}{shard:02d}"}


def active_playbooks_pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}{SEP}PLAYBOOKS_ACTIVE"


def active_playbook_sk(domain: str | None, playbook_id: str) -> str:
    return f"{domain_index_value(domain)}{SEP}{playbook_id}"


def domain_index_value(domain: str | None) -> str:
    return domain.lower() if domain else ANY_DOMAIN


def candidates_pk(tenant_id: str, partition: str) -> str:
    """The partition of one domain's candidate summaries (``partition`` = ``domain_index_value``)."""
    return f"{_tenant(tenant_id)}{SEP}CAND{SEP}{partition}"


def candidate_key(tenant_id: str, domain: str | None, playbook_id: str) -> dict[str, str]:
    return {"pk": candidates_pk(tenant_id, domain_index_value(domain)), "sk": playbook_id}


def catalogue_key(tenant_id: str) -> dict[str, str]:
    return {"pk": f"{_tenant(tenant_id)}{SEP}CATALOGUE", "sk": CATALOGUE_SK}


def candidate_bundle_key(tenant_id: str, partition: str) -> dict[str, str]:
    """One candidate partition's summaries, compressed in one item beside the catalogue stamps."""
    return {"pk": catalogue_key(tenant_id)["pk"], "sk": f"BUNDLE{SEP}{partition}"}


def all_playbooks_pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}{SEP}PLAYBOOKS"


def draft_key(tenant_id: str, draft_id: str) -> dict[str, str]:
    return {"pk": f"{_tenant(tenant_id)}{SEP}DRAFT{SEP}{draft_id}", "sk": DRAFT_SK}


def drafts_list_pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}{SEP}DRAFTS"


def policy_pack_pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}{SEP}PACK{SEP}POLICY"


def domain_pack_pk(tenant_id: str, domain: str) -> str:
    return f"{_tenant(tenant_id)}{SEP}PACK{SEP}DOMAIN{SEP}{domain.lower()}"


def packs_head_key(tenant_id: str) -> dict[str, str]:
    return {"pk": f"{_tenant(tenant_id)}{SEP}PACK{SEP}HEAD", "sk": "HEAD"}


def pack_latest_key(pack_pk: str) -> dict[str, str]:
    return {"pk": pack_pk, "sk": LATEST_SK}


def pack_version_key(pack_pk: str, version: int) -> dict[str, str]:
    return {"pk": pack_pk, "sk": version_sk(version)}


def idempotency_key(tenant_id: str, scope: str, key: str) -> dict[str, str]:
    return {"pk": f"{_tenant(tenant_id)}{SEP}IDEMP{SEP}{scope}{SEP}{key}", "sk": IDEMPOTENCY_SK}


def events_pk(tenant_id: str, exception_id: str) -> str:
    return exception_pk(tenant_id, exception_id)


def tenant_prefix(tenant_id: str) -> str:
    """The leading-key prefix IAM ``dynamodb:LeadingKeys`` conditions can enforce."""
    return f"{_tenant(tenant_id)}{SEP}"


# -- the work queue (exception list orders) ---------------------------------------------------
NO_DEADLINE = "~"  # sorts after every ISO timestamp: exceptions without an SLA come last
# Severity rank in the severity order's sort key; read newest-first (descending) the most
# severe come first and exceptions without a severity last.
SEVERITY_RANKS = {"critical": "4", "high": "3", "medium": "2", "low": "1", None: "0"}


def queue_pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}{SEP}QUEUE"


def queue_open_pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}{SEP}QUEUE_OPEN"


def queue_created_sk(created_at: str, exception_id: str) -> str:
    return f"{created_at}{SEP}{exception_id}"


def queue_severity_sk(severity: str | None, created_at: str, exception_id: str) -> str:
    return f"{SEVERITY_RANKS[severity]}{SEP}{created_at}{SEP}{exception_id}"


def queue_sla_sk(sla_deadline: str | None, exception_id: str) -> str:
    return f"{sla_deadline or NO_DEADLINE}{SEP}{exception_id}"


def queue_sla_before(deadline: str) -> str:
    """The exclusive upper bound of SLA sort keys whose deadline is before ``deadline``."""
    return f"{deadline}{SEP}"
