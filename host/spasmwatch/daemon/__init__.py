"""The daemon: band sessions, live analysis, alerts, and the local HTTP API."""
