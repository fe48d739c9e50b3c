"""PostgreSQL advisory lock keys this program takes, in one place so that none collide."""

from __future__ import annotations

MIGRATION_LOCK = 0x6C6F79616C7479  # "loyalty" in ASCII: one migrator at a time (per transaction)
LEADER_LOCK = MIGRATION_LOCK + 1  # the scheduler's leader (per session, see storage.leader)
