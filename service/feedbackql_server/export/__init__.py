"""Streamed exports: whole records for archiving and analysis, and training-ready rows."""
