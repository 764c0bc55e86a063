"""Resource limits and counts over HTTP: CloudStack's type numbers and names, defaults, updates, refusals."""

from __future__ import annotations

from .conftest import HA_OFFERING, Catalog, refused

TYPE_NAMES = ["user_vm", "public_ip", "volume", "snapshot", "template", "project", "network", "vpc", "cpu",
              "memory", "primary_storage", "secondary_storage"]


def test_limits_defaults_updates_and_counts(catalog: Catalog) -> None:
    sales = catalog.domain("Sales")
    account = catalog.account(sales)
    user = catalog.client(account)

    mine = user.listResourceLimits()["resourcelimit"]
    assert [(int(limit["resourcetype"]), limit["resourcetypename"]) for limit in mine] == list(enumerate(TYPE_NAMES))
    by_name = {limit["resourcetypename"]: limit for limit in mine}
    assert by_name["user_vm"]["max"] == 20 and by_name["cpu"]["max"] == 40 and by_name["memory"]["max"] == 40960
    assert by_name["user_vm"]["account"] == account["name"] and by_name["user_vm"]["domain"] == "Sales"
    assert [a["max"] for a in catalog.cs.listResourceLimits()["resourcelimit"]] == [-1] * 12  # root admin

    changed = catalog.cs.updateResourceLimit(resourcetype=0, max=5, account=account["name"],
                                             domainid=sales["id"])["resourcelimit"]
    assert (changed["resourcetype"], changed["resourcetypename"], changed["max"]) == ("0", "user_vm", 5)
    assert user.listResourceLimits(resourcetype=0)["resourcelimit"][0]["max"] == 5
    assert user.listResourceLimits(resourcetypename="cpu")["resourcelimit"][0]["max"] == 40

    domain_limit = catalog.cs.updateResourceLimit(resourcetype=4, max=1, domainid=sales["id"])["resourcelimit"]
    assert "account" not in domain_limit and domain_limit["max"] == 1
    assert catalog.cs.listResourceLimits(domainid=sales["id"], resourcetype=4)["resourcelimit"][0]["max"] == 1

    # the domain's template limit of 1 holds for its accounts: the second registration is refused with 535
    where = catalog.placement()
    catalog.template(where["zone"], client=user)
    over = refused(lambda: catalog.template(where["zone"], client=user, name="second"))
    assert over.errorcode == 535 and "template" in over.text
    assert user.listTemplates(templatefilter="self")["count"] == 1

    offering = catalog.cs.createServiceOffering(**HA_OFFERING)["serviceoffering"]
    template = user.listTemplates(templatefilter="self")["template"][0]
    catalog.seed_vms(3, account=account, offering=offering, template=template, where=where)
    counts = catalog.cs.updateResourceCount(domainid=sales["id"], account=account["name"])["resourcecount"]
    figures = {c["resourcetypename"]: c["resourcecount"] for c in counts}
    assert (figures["user_vm"], figures["cpu"], figures["memory"], figures["volume"], figures["template"]) == (
        3, 3, 1536, 3, 1)
    assert figures["primary_storage"] == 3 * 20 * 1024**3
    only_vms = catalog.cs.updateResourceCount(domainid=sales["id"], resourcetype=0)["resourcecount"]
    assert [(c["resourcetypename"], c["resourcecount"]) for c in only_vms] == [("user_vm", 3)]


def test_limit_refusals_change_nothing(sqlite_catalog: Catalog) -> None:
    api = sqlite_catalog.cs
    account = sqlite_catalog.account()
    user = sqlite_catalog.client(account)
    missing = refused(api.updateResourceLimit, max=3, account=account["name"], domainid=sqlite_catalog.root_id)
    assert (missing.errorcode, missing.cserrorcode) == (431, 4350) and "resourcetype" in missing.text
    assert "resourcetype" in refused(api.updateResourceLimit, resourcetype=12, max=3, account=account["name"],
                                     domainid=sqlite_catalog.root_id).text
    assert "'-1'" in refused(api.updateResourceLimit, resourcetype=0, max=-5, account=account["name"],
                             domainid=sqlite_catalog.root_id).text
    assert "max" in refused(api.updateResourceLimit, resourcetype=0, max="lots", account=account["name"],
                            domainid=sqlite_catalog.root_id).text
    assert "ROOT" in refused(api.updateResourceLimit, resourcetype=0, max=3, domainid=sqlite_catalog.root_id).text
    assert refused(user.updateResourceLimit, resourcetype=0, max=100).errorcode == 432
    assert refused(user.listResourceLimits, account="admin").errorcode == 531
    assert "domainid" in refused(api.updateResourceCount).text
    assert user.listResourceLimits(resourcetype=0)["resourcelimit"][0]["max"] == 20


def test_a_domain_admin_manages_the_limits_below_it(sqlite_catalog: Catalog) -> None:
    api = sqlite_catalog.cs
    sales = sqlite_catalog.domain("Sales")
    sales_admin_account = sqlite_catalog.account(sales, accounttype=2)
    sales_admin = sqlite_catalog.client(sales_admin_account)
    member = sqlite_catalog.account(sales)
    other = sqlite_catalog.account()

    set_by_admin = sales_admin.updateResourceLimit(resourcetype=8, max=4, account=member["name"],
                                                   domainid=sales["id"])["resourcelimit"]
    assert (set_by_admin["account"], set_by_admin["resourcetypename"], set_by_admin["max"]) == (
        member["name"], "cpu", 4)
    assert api.listResourceLimits(account=member["name"], domainid=sales["id"],
                                  resourcetype=8)["resourcelimit"][0]["max"] == 4
    assert refused(sales_admin.updateResourceLimit, resourcetype=8, max=400, account=sales_admin_account["name"],
                   domainid=sales["id"]).errorcode == 531  # not its own account's
    assert refused(sales_admin.updateResourceLimit, resourcetype=8, max=400,
                   domainid=sales["id"]).errorcode == 531  # nor its own domain's
    assert refused(sales_admin.updateResourceLimit, resourcetype=8, max=400, account=other["name"],
                   domainid=sqlite_catalog.root_id).errorcode == 531  # nor outside its subtree
    assert api.listResourceLimits(account=other["name"], domainid=sqlite_catalog.root_id,
                                  resourcetype=8)["resourcelimit"][0]["max"] == 40
