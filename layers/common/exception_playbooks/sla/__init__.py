"""The SLA clock: one-time schedules at the policy's thresholds, and what happens when one fires."""
