"""Briefs as documents to take away (Word), built from the same `Brief` data as every message."""
