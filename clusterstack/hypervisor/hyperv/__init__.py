"""The driver for real Hyper-V failover clusters: PowerShell's FailoverClusters and Hyper-V modules over
PowerShell remoting (WinRM + PSRP, with pypsrp). docs/hyperv-cmdlets.md lists every cmdlet it sends and every
property it reads."""

from clusterstack.hypervisor.hyperv.driver import HyperVDriver

__all__ = ["HyperVDriver"]
