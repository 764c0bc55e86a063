"""The report carries what a failover rehearsal needs of a role and of the cluster, with both drivers: the
failover timings in force (profile), dynamic quorum, and each role's AntiAffinityClassNames, FailoverThreshold
and FailoverPeriod."""

from __future__ import annotations

from clusterstack.hypervisor.base import RoleReport

from .conftest import DriverUnderTest
from .test_contract import running, vm_spec


def test_the_report_says_how_roles_fail_over(under_test: DriverUnderTest) -> None:
    driver = under_test.driver
    driver.create_vm(vm_spec("i-2-30-VM"))
    driver.create_vm(vm_spec("i-2-31-VM", node="HYPERVCLLOUD17"))
    running(driver, "i-2-30-VM")
    engine = under_test.sim.sim.cluster
    # the engine keeps these as properties of the group (FCM: the role's Failover tab, AntiAffinityClassNames)
    engine.roles["i-2-30-VM"].anti_affinity = ["sql", "web"]
    engine.roles["i-2-30-VM"].failover_threshold = 3
    engine.roles["i-2-30-VM"].failover_period = 2 * 3600.0
    report = driver.report()
    assert (report.profile, report.dynamic_quorum) == ("2016", True)
    first: RoleReport | None = report.role("i-2-30-VM")
    other: RoleReport | None = report.role("i-2-31-VM")
    assert first is not None and other is not None
    assert (first.anti_affinity, first.failover_threshold, first.failover_period_hours) == (("sql", "web"), 3, 2.0)
    assert (other.anti_affinity, other.failover_threshold, other.failover_period_hours) == ((), None, 6.0)
