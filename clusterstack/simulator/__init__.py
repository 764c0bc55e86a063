"""A simulated Hyper-V failover cluster: the failover engine on a clock, behind HTTP."""
