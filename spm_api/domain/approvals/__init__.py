"""Approval rounds, votes, the rules an organisation applies, the baseline and
affirmations."""
