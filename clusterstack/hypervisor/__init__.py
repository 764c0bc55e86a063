"""The driver seam between the management server and Hyper-V failover clusters."""
