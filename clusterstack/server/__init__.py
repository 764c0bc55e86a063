"""The management server: CloudStack API, database, jobs, orchestration, console."""
