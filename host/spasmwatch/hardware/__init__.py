"""Supported boards: loading and checking ``hardware/boards/*.json``, and the power budget."""
