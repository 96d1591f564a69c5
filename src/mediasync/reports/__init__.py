"""Completion reports: rows (the one row model, reading), summary, terminal tables, HTML."""
