"""The rollout: the flag decision and its cache, changes and rollback levels, the plan and the health gate."""
