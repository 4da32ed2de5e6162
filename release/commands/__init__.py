"""CLI commands, one module per concern; each exposes `COMMANDS` (name → `Command`)."""
