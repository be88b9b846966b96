"""Approval rounds, votes, rules, the baseline and affirmations."""
