"""Briefbot: cited briefs from a curated fact base, for Slack, the console and the command line."""

from __future__ import annotations

__version__ = "0.1.0"
