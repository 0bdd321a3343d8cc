"""Reliability and safety tests: fuzzing, BFCL signatures, faults, load, hostile text."""
