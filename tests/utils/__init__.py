"""Helpers shared by the test suites and the measurement scripts (not tests themselves)."""
