"""Conditioners: audio (both tracks), text and image -> ConditionTokens."""
