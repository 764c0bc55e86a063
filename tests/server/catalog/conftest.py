"""Fixtures for catalog tests: a live server (SQLite and PostgreSQL), the admin's `cs` client, accounts with
their own clients (createAccount + registerUserKeys), a zone/pod/cluster/host, and instances seeded through
the models (deployVirtualMachine arrives with the orchestration work)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import cs
import pytest
from sqlalchemy import select

PASSWORD = "S3cret-pass!"
GIB = 1024**3
HA_OFFERING = {"name": "HA Offering", "displaytext": "HA Offering", "cpunumber": 1, "cpuspeed": 500,
               "memory": 512, "storagetype": "shared", "provisioningtype": "thin", "offerha": True}
WINDOWS_2019 = "Windows Server 2019 (64-bit)"
_names = itertools.count(1)


class Refusal:
    def __init__(self, exc: cs.CloudStackApiException) -> None:
        error = exc.error or {}
        self.status = exc.response.status_code if exc.response is not None else None
        self.errorcode = error.get("errorcode")
        self.cserrorcode = error.get("cserrorcode")
        self.text: str = error.get("errortext", "")


def refused(call: Callable[..., Any], **params: Any) -> Refusal:
    """Call a command that must fail; return how it failed (HTTP status checked against errorcode)."""
    with pytest.raises(cs.CloudStackApiException) as info:
        call(**params)
    failure = Refusal(info.value)
    assert failure.status == failure.errorcode
    return failure


class Catalog:
    """A live server, the admin's client, and helpers for accounts, placement and seeded instances."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.cs = server.cs()
        self.root_id = self.cs.listDomains()["domain"][0]["id"]
        # these tests build the catalog from nothing: the offerings a new installation has (CloudStack's Small
        # Instance, Medium Instance, and disk offerings Small, Medium, Large, Custom) are deleted first
        for offering in self.cs.listServiceOfferings().get("serviceoffering", []):
            self.cs.deleteServiceOffering(id=offering["id"])
        for offering in self.cs.listDiskOfferings().get("diskoffering", []):
            self.cs.deleteDiskOffering(id=offering["id"])

    # identity -------------------------------------------------------------------------------------------
    def domain(self, name: str) -> dict[str, Any]:
        return self.cs.createDomain(name=name)["domain"]

    def account(self, domain: dict[str, Any] | None = None, accounttype: int = 0) -> dict[str, Any]:
        name = f"acct{next(_names)}"
        return self.cs.createAccount(accounttype=accounttype, account=name, username=name, password=PASSWORD,
                                     email=f"{name}@example.org", firstname=name, lastname="Test",
                                     domainid=(domain or {"id": self.root_id})["id"])["account"]

    def client(self, account: dict[str, Any]) -> Any:
        keys = self.cs.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
        return self.server.cs(keys["apikey"], keys["secretkey"])

    # placement ------------------------------------------------------------------------------------------
    def placement(self) -> dict[str, Any]:
        """Zone HVCluster, pod P1, cluster CI1 with hosts HYPERVCLLOUD13 and HYPERVCLLOUD17 (seeded rows for
        the cluster and hosts until addCluster/addHost exist)."""
        from clusterstack.server.db.models.infrastructure import Cluster, Host, Pod

        zone = self.cs.createZone(name="HVCluster", networktype="Advanced", dns1="8.8.8.8",
                                  internaldns1="10.0.0.1", allocationstate="Enabled")["zone"]
        pod = self.cs.createPod(name="P1", zoneid=zone["id"], gateway="10.1.0.1", netmask="255.255.255.0",
                                startip="10.1.0.10", endip="10.1.0.200")["pod"]
        with self.server.state.database.session() as db:
            pod_row = db.scalar(select(Pod).where(Pod.uuid == pod["id"]))
            cluster = Cluster(uuid=str(uuid.uuid4()), name="CI1", zone_id=pod_row.zone_id, pod_id=pod_row.id,
                              failover_name="CI1")
            db.add(cluster)
            db.flush()
            hosts = []
            for name in ("HYPERVCLLOUD13", "HYPERVCLLOUD17"):
                host = Host(uuid=str(uuid.uuid4()), name=name, node_name=name, status="Up", zone_id=cluster.zone_id,
                            pod_id=cluster.pod_id, cluster_id=cluster.id, cpus=8, cpu_speed=2400,
                            total_memory=64 * GIB)
                db.add(host)
                hosts.append(host)
            db.flush()
            return {"zone": zone, "pod": pod, "cluster": {"id": cluster.uuid, "name": "CI1"},
                    "hosts": [{"id": h.uuid, "name": h.name} for h in hosts]}

    def os_type(self, name: str = WINDOWS_2019) -> dict[str, Any]:
        return next(o for o in self.cs.listOsTypes()["ostype"] if o["description"] == name)

    def template(self, zone: dict[str, Any], client: Any = None, **extra: Any) -> dict[str, Any]:
        params = {"name": "WS2019", "displaytext": "Windows Server 2019", "format": "VHD", "hypervisor": "Hyper-V",
                  "url": "http://images.example.org/ws2019.vhd", "zoneid": zone["id"],
                  "ostypeid": self.os_type()["id"], **extra}
        return (client or self.cs).registerTemplate(**params)["template"][0]

    def seed_vms(self, count: int, *, account: dict[str, Any], offering: dict[str, Any], template: dict[str, Any],
                 where: dict[str, Any], state: str = "Running", host_index: int = 0,
                 name_prefix: str = "vm") -> list[str]:
        """Instances as deployVirtualMachine will leave them, written through the models; returns their ids."""
        from clusterstack.server.db.models.catalog import ServiceOffering, VMTemplate
        from clusterstack.server.db.models.identity import Account, User
        from clusterstack.server.db.models.infrastructure import Host
        from clusterstack.server.db.models.instances import VMInstance, Volume, instance_name

        made: list[str] = []
        with self.server.state.database.session() as db:
            acct = db.scalar(select(Account).where(Account.uuid == account["id"]))
            user = db.scalar(select(User).where(User.account_id == acct.id))
            so = db.scalar(select(ServiceOffering).where(ServiceOffering.uuid == offering["id"]))
            tmpl = db.scalar(select(VMTemplate).where(VMTemplate.uuid == template["id"]))
            host = db.scalar(select(Host).where(Host.uuid == where["hosts"][host_index]["id"]))
            base = datetime(2017, 5, 11, 14, 0, tzinfo=UTC)
            for i in range(count):
                running = state == "Running"
                vm = VMInstance(uuid=str(uuid.uuid4()), name=f"{name_prefix}{i}", display_name=f"{name_prefix}{i}",
                                state=state, ha_enabled=so.offer_ha, service_offering_id=so.id, template_id=tmpl.id,
                                guest_os_id=tmpl.guest_os_id, zone_id=host.zone_id, pod_id=host.pod_id,
                                cluster_id=host.cluster_id, host_id=host.id if running else None,
                                last_host_id=host.id, account_id=acct.id, domain_id=acct.domain_id,
                                user_id=user.id, cpu=so.cpu, speed=so.speed, ram_size=so.ram_size,
                                power_state="PowerOn" if running else "PowerOff",
                                created=base + timedelta(minutes=i))
                db.add(vm)
                db.flush()
                vm.instance_name = instance_name(acct.id, vm.id)
                db.add(Volume(uuid=str(uuid.uuid4()), name=f"ROOT-{vm.id}", volume_type="ROOT",
                              state="Destroy" if state == "Destroyed" else "Ready",
                              size=20 * GIB, path=f"C:\\ClusterStorage\\Volume1\\ROOT-{vm.id}.vhdx",
                              instance_id=vm.id, device_id=0, zone_id=host.zone_id, account_id=acct.id,
                              domain_id=acct.domain_id, template_id=tmpl.id))
                made.append(vm.uuid)
        return made


@pytest.fixture
def catalog(live_server_factory: Any, db_url: str) -> Catalog:
    """On SQLite, then on PostgreSQL."""
    return Catalog(live_server_factory(db_url))


@pytest.fixture
def sqlite_catalog(live_server: Any) -> Catalog:
    """On SQLite only, for checks whose outcome does not depend on the database."""
    return Catalog(live_server)
