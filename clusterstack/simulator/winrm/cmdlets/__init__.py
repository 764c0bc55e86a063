"""The cmdlets a simulated Windows Server 2016 Hyper-V failover-cluster node answers (docs/hyperv-cmdlets.md).

    host = host_factory(sim)("HYPERVCLLOUD13", "CLUSTERSTACK\\Administrator")
    result = await host.run([[CommandInvocation("Get-ClusterGroup")]])

host.py runs pipelines and binds parameters (binding.py); objects.py holds the .NET types and enums; the
cmdlets live in failover_clusters.py, hyperv.py, windows.py and event_log.py.
"""

from clusterstack.simulator.winrm.cmdlets.host import Session, host_factory

__all__ = ["Session", "host_factory"]
