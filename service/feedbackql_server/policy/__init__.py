"""Who may do what: one module per resource, used by every resolver and subscription.

The rules (Argilla's roles):

* owner: everything;
* admin: manages the workspaces they belong to: their datasets, records and members
  (never owners);
* annotator: reads the datasets and records of their workspaces, writes and reads only
  their own responses, and does not see metadata properties hidden from annotators.

An object the caller may not see is ``NOT_FOUND``, exactly as if it did not exist; an
action on a visible object that the role forbids is ``FORBIDDEN``. The checks are pure
functions of the caller and the documents, so they cost nothing to call on every path.
"""

from feedbackql_server.policy.caller import Caller

__all__ = ["Caller"]
