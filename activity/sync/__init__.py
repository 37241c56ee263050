"""The sync engine: plain functions shared by the management command and the background task."""
