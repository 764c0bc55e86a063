"""createTags, deleteTags, listTags and the tags[0].key= filters of listVirtualMachines, listVolumes and
listTemplates; updateVolume; moveUser; registerUserKeys for another user of the same account. Driven with the
`cs` client as CloudStack's smoke tests (test_tags.py, test_volumes.py, test_accounts.py) drive them, and
answered as CloudStack's TaggedResourceManagerImpl, VolumeApiServiceImpl and AccountManagerImpl answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cs import CloudStackApiException

from .seed_cloud import build_seed

PASSWORD = "S3cret-pass!"


@pytest.fixture
def simulator(simulator_factory: Any) -> Any:
    """Tags and these commands do not reach the cluster's driver: one driver is enough."""
    return simulator_factory(speed=10.0)


@pytest.fixture
def seed(live_server: Any, simulator: Any) -> dict[str, Any]:
    return build_seed(live_server, simulator)


def _refused(call: Callable[..., Any], **params: Any) -> dict[str, Any]:
    with pytest.raises(CloudStackApiException) as info:
        call(**params)
    error: dict[str, Any] = info.value.error or {}
    return error


def _account(seed: dict[str, Any], name: str, accounttype: int = 0, domainid: str | None = None
             ) -> tuple[dict[str, Any], Any]:
    extra = {"domainid": domainid} if domainid else {}
    account = seed["cs"].createAccount(accounttype=accounttype, account=name, username=name, password=PASSWORD,
                                       email=f"{name}@example.org", firstname=name, lastname="Test",
                                       **extra)["account"]
    keys = seed["cs"].registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    return account, seed["server"].cs(keys["apikey"], keys["secretkey"])


def _tags(seed: dict[str, Any], **extra: Any) -> Any:
    return {f"tags[{i}].{part}": value for i, (key, val) in enumerate(extra.items())
            for part, value in (("key", key), ("value", val))}


def test_tags_on_instances_volumes_and_templates(seed: dict[str, Any]) -> None:
    admin = seed["cs"]
    account, client = _account(seed, "tagger")
    vm = client.deployVirtualMachine(zoneid=seed["zone"], serviceofferingid=seed["offerings"]["Small Instance"],
                                     templateid=seed["template"], name="tagged")["virtualmachine"]
    other = client.deployVirtualMachine(zoneid=seed["zone"], serviceofferingid=seed["offerings"]["Small Instance"],
                                        templateid=seed["template"], name="untagged")["virtualmachine"]
    assert client.createTags(resourcetype="UserVm", resourceids=vm["id"],
                             **_tags(seed, region="India", tier="web"))["success"] is True

    listed = client.listVirtualMachines(**_tags(seed, region="India"))["virtualmachine"]
    assert [v["id"] for v in listed] == [vm["id"]]
    assert {(t["key"], t["value"]) for t in listed[0]["tags"]} == {("region", "India"), ("tier", "web")}
    tag = listed[0]["tags"][0]
    assert (tag["resourcetype"], tag["resourceid"], tag["account"]) == ("UserVm", vm["id"], account["name"])
    # CloudStack ORs the pairs of one filter: either pair matches
    assert len(client.listVirtualMachines(**_tags(seed, region="Europe", tier="web"))["virtualmachine"]) == 1
    assert client.listVirtualMachines(**_tags(seed, region="Europe")) == {}
    untagged = client.listVirtualMachines(id=other["id"])["virtualmachine"][0]
    assert untagged["tags"] == []
    assert _refused(client.listVirtualMachines, **{"tags[0].key": "region"})["errortext"] == \
        "No value is passed in for key region"

    # a key already on the resource fails the job, as CloudStack's "tag ... already on ..."
    duplicate = _refused(client.createTags, resourcetype="uservm", resourceids=vm["id"], **_tags(seed, tier="db"))
    assert duplicate["errorcode"] == 530 and "tag tier already on UserVm" in duplicate["errortext"]
    assert _refused(client.createTags, resourcetype="Bogus", resourceids=vm["id"],
                    **_tags(seed, a="b"))["errortext"] == "Invalid resource type Bogus"
    assert _refused(client.createTags, resourcetype="UserVm", resourceids=vm["id"],
                    **{"tags[0].key": "empty", "tags[0].value": ""})["errorcode"] == 431

    [root] = client.listVolumes(virtualmachineid=vm["id"])["volume"]
    client.createTags(resourcetype="Volume", resourceids=root["id"], **_tags(seed, backup="daily"))
    assert [v["id"] for v in client.listVolumes(**_tags(seed, backup="daily"))["volume"]] == [root["id"]]
    admin.createTags(resourcetype="Template", resourceids=seed["template"], **_tags(seed, os="windows"))
    templates = admin.listTemplates(templatefilter="all", **_tags(seed, os="windows"))["template"]
    assert [t["id"] for t in templates] == [seed["template"]] and templates[0]["tags"][0]["value"] == "windows"
    assert admin.listTemplates(templatefilter="all", **_tags(seed, os="linux")) == {}

    # listTags: a user sees its own account's tags; the admin all with listall
    mine = client.listTags()["tag"]
    assert {(t["resourcetype"], t["key"]) for t in mine} == {("UserVm", "region"), ("UserVm", "tier"),
                                                            ("Volume", "backup")}
    assert client.listTags(resourcetype="Volume")["count"] == 1
    assert admin.listTags(listall=True, key="os")["tag"][0]["resourceid"] == seed["template"]
    # another account may neither tag nor see them
    _, stranger = _account(seed, "stranger")
    assert _refused(stranger.createTags, resourcetype="UserVm", resourceids=vm["id"],
                    **_tags(seed, mine="no"))["errorcode"] == 531
    assert stranger.listTags() == {}

    # deleteTags: by key (any value), by key and value; nothing matching fails as in CloudStack
    assert client.deleteTags(resourcetype="UserVm", resourceids=vm["id"], **{"tags[0].key": "tier"})["success"]
    left = client.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["tags"]
    assert [t["key"] for t in left] == ["region"]
    failed = _refused(client.deleteTags, resourcetype="UserVm", resourceids=vm["id"], **_tags(seed, region="Mars"))
    assert (failed["errorcode"], failed["errortext"]) == (530, "Failed to delete tags")
    assert client.deleteTags(resourcetype="UserVm", resourceids=vm["id"])["success"] is True
    assert client.listVirtualMachines(**_tags(seed, region="India")) == {}


def test_update_volume(seed: dict[str, Any]) -> None:
    admin = seed["cs"]
    _, client = _account(seed, "renamer")
    offering = admin.createDiskOffering(name="Data", displaytext="Data", disksize=1)["diskoffering"]
    volume = client.createVolume(name="before", zoneid=seed["zone"], diskofferingid=offering["id"])["volume"]
    renamed = client.updateVolume(id=volume["id"], name="after")["volume"]
    assert (renamed["id"], renamed["name"]) == (volume["id"], "after")
    error = _refused(client.updateVolume, id=volume["id"], displayvolume=False)
    assert error["errorcode"] == 431 and "except volume name & delete protection" in error["errortext"]
    hidden = admin.updateVolume(id=volume["id"], displayvolume=False)["volume"]
    assert hidden["displayvolume"] is False
    assert client.listVolumes(id=volume["id"]) == {}
    assert _refused(admin.updateVolume, id=volume["id"], state="Sleeping")["errortext"] == \
        "Invalid volume state specified"
    assert _refused(admin.updateVolume, id=volume["id"], chaininfo="{}")["errorcode"] == 431
    assert _refused(client.updateVolume, id=volume["id"], deleteprotection=True)["errorcode"] == 431


def test_move_user_and_keys_for_users_of_the_same_account(seed: dict[str, Any]) -> None:
    admin = seed["cs"]
    domain = admin.createDomain(name="Movers")["domain"]
    first, _ = _account(seed, "first", domainid=domain["id"])
    second, _ = _account(seed, "second", domainid=domain["id"])
    elsewhere, _ = _account(seed, "elsewhere")
    extra = admin.createUser(account=first["name"], domainid=domain["id"], username="extra", password=PASSWORD,
                             email="extra@example.org", firstname="Extra", lastname="User")["user"]

    assert admin.moveUser(id=extra["id"], account=second["name"])["success"] is True
    moved = admin.listUsers(id=extra["id"])["user"][0]
    assert (moved["account"], moved["accountid"]) == (second["name"], second["id"])
    assert admin.moveUser(id=extra["id"], accountid=first["id"])["success"] is True
    assert admin.listUsers(id=extra["id"])["user"][0]["account"] == first["name"]
    across = _refused(admin.moveUser, id=extra["id"], accountid=elsewhere["id"])
    assert across["errorcode"] == 431 and "another domain is not supported" in across["errortext"]
    assert _refused(admin.moveUser, id=extra["id"])["errorcode"] == 431

    # a domain admin, and a user, renew the keys of another user of their own account (CloudStack's default
    # allow.operations.on.users.in.same.account=true); not of a user of another account
    domain_admin, da_client = _account(seed, "dadmin", accounttype=2, domainid=domain["id"])
    colleague = admin.createUser(account=domain_admin["name"], domainid=domain["id"], username="colleague",
                                 password=PASSWORD, email="c@example.org", firstname="C", lastname="U")["user"]
    keys = da_client.registerUserKeys(id=colleague["id"])["userkeys"]
    assert seed["server"].cs(keys["apikey"], keys["secretkey"]).listUsers(id=colleague["id"])["count"] == 1
    user_keys = admin.registerUserKeys(id=first["user"][0]["id"])["userkeys"]
    first_client = seed["server"].cs(user_keys["apikey"], user_keys["secretkey"])
    renewed = first_client.registerUserKeys(id=extra["id"])["userkeys"]
    assert renewed["apikey"] and first_client.getUserKeys(id=extra["id"])["userkeys"]["apikey"] == \
        renewed["apikey"]
    # a user of another account is out of reach, answered as a user that does not exist (e87e084)
    out_of_reach = _refused(first_client.registerUserKeys, id=second["user"][0]["id"])
    assert (out_of_reach["errorcode"], out_of_reach["errortext"]) == (
        431, f"Unable to find user with specified id: {second['user'][0]['id']}")


def test_volumes_of_an_encrypting_offering_are_not_attached(seed: dict[str, Any]) -> None:
    """As CloudStack on every hypervisor but KVM (VolumeApiServiceImpl.attachVolumeToVM)."""
    admin = seed["cs"]
    vm = admin.deployVirtualMachine(zoneid=seed["zone"], serviceofferingid=seed["offerings"]["Small Instance"],
                                    templateid=seed["template"], name="plainvm")["virtualmachine"]
    encrypted = admin.createDiskOffering(name="Encrypted", disksize=1, encrypt=True)["diskoffering"]
    volume = admin.createVolume(name="secret", zoneid=seed["zone"], diskofferingid=encrypted["id"])["volume"]
    expected = "Volume's disk offering has encryption enabled, but volume encryption is not supported for " \
        "hypervisor type Hyperv"
    assert _refused(admin.attachVolume, id=volume["id"], virtualmachineid=vm["id"])["errortext"] == expected
    assert _refused(admin.createVolume, name="secret2", diskofferingid=encrypted["id"],
                    virtualmachineid=vm["id"])["errortext"] == expected
    assert [v["type"] for v in admin.listVolumes(virtualmachineid=vm["id"])["volume"]] == ["ROOT"]
