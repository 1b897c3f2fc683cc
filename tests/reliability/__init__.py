"""Reliability scenarios: many items under injected faults, crashes and competing workers."""
