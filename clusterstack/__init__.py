"""clusterstack: highly available VMs on Hyper-V failover clusters, behind the Apache CloudStack API."""

__version__ = "0.1.0"
