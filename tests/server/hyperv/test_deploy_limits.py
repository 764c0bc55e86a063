"""Resource limits on deploy: a user account's limits refuse the deploy that would exceed them, and it changes
nothing."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStackApiException

from .test_instances import seed  # noqa: F401 - the fixture


def test_an_accounts_instance_limit_refuses_the_next_deploy(seed: dict[str, Any], live_server: Any) -> None:  # noqa: F811
    admin = seed["cs"]
    account = admin.createAccount(accounttype=0, account="capped", username="capped", password="S3cret-pass!",
                                  email="capped@example.org", firstname="c", lastname="d")["account"]
    admin.updateResourceLimit(resourcetype=0, max=1, account="capped", domainid=account["domainid"])
    keys = admin.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    user = live_server.cs(keys["apikey"], keys["secretkey"])
    offering = seed["offerings"]["HA Offering"]
    first = user.deployVirtualMachine(zoneid=seed["zone"], serviceofferingid=offering, templateid=seed["template"],
                                      name="one")["virtualmachine"]
    assert first["state"] == "Running"
    before = admin.listVirtualMachines(listall=True)["virtualmachine"]
    with pytest.raises(CloudStackApiException) as refused:
        user.deployVirtualMachine(zoneid=seed["zone"], serviceofferingid=offering, templateid=seed["template"],
                                  name="two")
    assert refused.value.error["errorcode"] == 535  # ResourceAllocationException
    assert admin.listVirtualMachines(listall=True)["virtualmachine"] == before
