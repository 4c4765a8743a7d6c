"""The public handoff service: conversations, the counsellor queue, shifts and the audit trail."""
