"""Test doubles that speak real protocols on loopback (started and stopped by the tests)."""
