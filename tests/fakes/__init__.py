"""Test doubles shared across the suite (never defined inside a test module)."""
