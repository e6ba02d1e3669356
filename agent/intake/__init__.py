"""Tool-call intake: calls taken from a model turn, repaired where unambiguous, validated, given ids."""
