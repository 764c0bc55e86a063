"""Offering fields CloudStack's smoke tests send (test_disk_offerings.py, test_service_offerings.py): encrypt and
encryptroot, cachemode, the bytes/IOPS rate limits, customizediops, hypervisorsnapshotreserve, issystem. Accepted
and answered with CloudStack's keys, except what Hyper-V cannot apply, which is refused with 431."""

from __future__ import annotations

import pytest

from .conftest import HA_OFFERING, Catalog, refused

LIMITS = [f"{kind}{direction}rate{suffix}" for kind in ("bytes", "iops") for direction in ("read", "write")
          for suffix in ("", "max", "maxlength")]


def test_disk_offering_fields(sqlite_catalog: Catalog) -> None:
    api = sqlite_catalog.cs
    made = api.createDiskOffering(name="Encrypted", disksize=1, encrypt=True, cachemode="none",
                                  hypervisorsnapshotreserve=20, miniops=100, maxiops=500)["diskoffering"]
    assert (made["encrypt"], made["cacheMode"], made["hypervisorsnapshotreserve"]) == (True, "none", 20)
    assert (made["miniops"], made["maxiops"], made["iscustomizediops"]) == (100, 500, False)
    assert made.get("diskBytesReadRate") is None  # no limit set: CloudStack leaves the key out
    plain = api.createDiskOffering(name="Plain", disksize=1, cachemode="HYPERVISOR_DEFAULT")["diskoffering"]
    assert (plain["encrypt"], plain["cacheMode"]) == (False, "hypervisor_default")
    custom_iops = api.createDiskOffering(name="CustomIops", disksize=1, customizediops=True)["diskoffering"]
    assert custom_iops["iscustomizediops"] is True

    assert [d["name"] for d in api.listDiskOfferings(encrypt=True)["diskoffering"]] == ["Encrypted"]
    assert [d["name"] for d in api.listDiskOfferings(encrypt=False)["diskoffering"]] == ["Plain", "CustomIops"]

    bad = refused(api.createDiskOffering, name="x", disksize=1, cachemode="fast")
    assert (bad.errorcode, bad.text) == (431, "Invalid cache mode (fast). Please specify one of the following valid "
                                              "cache mode parameters: none, writeback, writethrough or "
                                              "hypervisor_default.")
    writeback = refused(api.createDiskOffering, name="x", disksize=1, cachemode="writeback")
    assert writeback.errorcode == 431 and "Hyper-V" in writeback.text
    assert refused(api.createDiskOffering, name="x", disksize=1, hypervisorsnapshotreserve=-1).text == \
        "If provided, Hypervisor Snapshot Reserve must be greater than or equal to 0."
    assert api.listDiskOfferings()["count"] == 3  # nothing refused was made


@pytest.mark.parametrize("limit", LIMITS)
def test_rate_limits_hyperv_cannot_apply_are_refused(sqlite_catalog: Catalog, limit: str) -> None:
    api = sqlite_catalog.cs
    for create, extra in ((api.createDiskOffering, {"disksize": 1}),
                          (api.createServiceOffering, {"cpunumber": 1, "cpuspeed": 500, "memory": 512})):
        failure = refused(create, name="limited", **{limit: 1000}, **extra)
        assert failure.errorcode == 431 and limit in failure.text and "Storage QoS" in failure.text
    assert api.listDiskOfferings() == {} and api.listServiceOfferings() == {}


def test_service_offering_fields_and_system_offerings(sqlite_catalog: Catalog) -> None:
    api = sqlite_catalog.cs
    made = api.createServiceOffering(**HA_OFFERING, encryptroot=True, cachemode="none", miniops=50, maxiops=300,
                                     hypervisorsnapshotreserve=10)["serviceoffering"]
    assert (made["encryptroot"], made["cacheMode"], made["miniops"], made["maxiops"]) == (True, "none", 50, 300)
    assert made["hypervisorsnapshotreserve"] == 10 and made["issystem"] is False
    router = api.createServiceOffering(name="Router", cpunumber=1, cpuspeed=500, memory=256, issystem=True)
    assert (router["serviceoffering"]["issystem"], router["serviceoffering"]["systemvmtype"]) == (True,
                                                                                                 "domainrouter")
    proxy = api.createServiceOffering(name="Proxy", cpunumber=1, cpuspeed=500, memory=1024, issystem=True,
                                      systemvmtype="consoleproxy")["serviceoffering"]
    # as CloudStack: system offerings are listed only with issystem=true
    assert [o["name"] for o in api.listServiceOfferings()["serviceoffering"]] == ["HA Offering"]
    assert [o["name"] for o in api.listServiceOfferings(issystem=True)["serviceoffering"]] == ["Router", "Proxy"]
    assert api.listServiceOfferings(issystem=True, systemvmtype="consoleproxy")["serviceoffering"][0]["id"] == \
        proxy["id"]
    assert [o["name"] for o in api.listServiceOfferings(encryptroot=True)["serviceoffering"]] == ["HA Offering"]
    assert refused(api.createServiceOffering, name="x", cpunumber=1, cpuspeed=500, memory=512, issystem=True,
                   systemvmtype="gateway").text == ("Invalid systemVmType. Supported types are: DomainRouter, "
                                                    "ConsoleProxy, SecondaryStorageVm")
    assert refused(api.createServiceOffering, name="x", cpunumber=1, cpuspeed=500, memory=512,
                   systemvmtype="consoleproxy").errorcode == 431
    assert refused(api.createServiceOffering, name="x", cpunumber=1, cpuspeed=500, memory=512, customizediops=True,
                   miniops=1).errorcode == 431
