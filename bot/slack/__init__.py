"""Slack adapter: Block Kit assembly, Slack limits and Bolt wiring."""
