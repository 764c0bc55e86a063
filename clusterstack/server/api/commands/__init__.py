"""API commands, one module per area; every module here is imported by registry.load_commands()."""
