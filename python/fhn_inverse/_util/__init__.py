"""Helpers every area may use: argument checks, atomic file writes, blank figures."""
