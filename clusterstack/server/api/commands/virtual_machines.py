"""listVirtualMachines: instances with CloudStack's UserVmResponse fields, scoped to what the caller may see.

One SELECT with joins fetches a page (offering, template, ISO, OS type, zone, host, account, domain come in
the same row), one COUNT counts the matches: two queries per call whatever the page size, no per-row lookups.
Every filter column is indexed (models/instances.py). Deploy, start, stop and the rest of the lifecycle arrive
with the orchestration layer; they render instances with `render_vm_row` too.

As in CloudStack, only root admins see where an instance runs (hostid, hostname) and its internal name
(instancename); users see neither, nor destroyed instances.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Subquery, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from clusterstack.server.api.access import scope_owned
from clusterstack.server.api.caller import Caller
from clusterstack.server.api.commands.tags import attach_tags, tag_filter
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error
from clusterstack.server.api.listing import ListResponse, page_window, scope_of_id
from clusterstack.server.api.lookup import filter_row_id, keyword_pattern, matches_hypervisor, matches_value
from clusterstack.server.api.registry import (
    ACCOUNT_SCOPE_PARAMS,
    ALL_ROLES,
    PAGING_PARAMS,
    TAGS_PARAM,
    Param,
    api_command,
    define_entity,
)
from clusterstack.server.api.responses import format_date
from clusterstack.server.db.models.catalog import DiskOffering, GuestOS, ServiceOffering, VMTemplate
from clusterstack.server.db.models.identity import Account, Domain, User
from clusterstack.server.db.models.infrastructure import Cluster, Host, Pod, Zone
from clusterstack.server.db.models.instances import VM_STATES, VMInstance

HIDDEN_FROM_USERS = ("Destroyed", "Expunging")

define_entity("virtualmachine", [
    ("id", "string", "the ID of the virtual machine"),
    ("name", "string", "the name of the virtual machine"),
    ("displayname", "string", "user generated name. The name of the virtual machine is returned if no "
     "displayname exists."),
    ("account", "string", "the account associated with the virtual machine"),
    ("userid", "string", "the user's ID who deployed the virtual machine"),
    ("username", "string", "the user's name who deployed the virtual machine"),
    ("domainid", "string", "the ID of the domain in which the virtual machine exists"),
    ("domain", "string", "the name of the domain in which the virtual machine exists"),
    ("domainpath", "string", "path of the domain in which the virtual machine exists"),
    ("created", "date", "the date when this virtual machine was created"),
    ("lastupdated", "date", "the date when this virtual machine was updated last time"),
    ("state", "string", "the state of the virtual machine"),
    ("haenable", "boolean", "true if high-availability is enabled, false otherwise"),
    ("group", "string", "the group name of the virtual machine"),
    ("zoneid", "string", "the ID of the availability zone for the virtual machine"),
    ("zonename", "string", "the name of the availability zone for the virtual machine"),
    ("hostid", "string", "the ID of the host for the virtual machine"),
    ("hostname", "string", "the name of the host for the virtual machine"),
    ("podid", "string", "the ID of the pod of the virtual machine's host", ),
    ("clusterid", "string", "the ID of the cluster of the virtual machine's host"),
    ("clustername", "string", "the name of the cluster of the virtual machine's host"),
    ("templateid", "string", "the ID of the template for the virtual machine. A -1 is returned if the virtual "
     "machine was created from an ISO file."),
    ("templatename", "string", "the name of the template for the virtual machine"),
    ("templatedisplaytext", "string", " an alternate display text of the template for the virtual machine"),
    ("templatetype", "string", "the type of the template for the virtual machine"),
    ("passwordenabled", "boolean", "true if the password rest feature is enabled, false otherwise"),
    ("isoid", "string", "the ID of the ISO attached to the virtual machine"),
    ("isoname", "string", "the name of the ISO attached to the virtual machine"),
    ("isodisplaytext", "string", "an alternate display text of the ISO attached to the virtual machine"),
    ("serviceofferingid", "string", "the ID of the service offering of the virtual machine"),
    ("serviceofferingname", "string", "the name of the service offering of the virtual machine"),
    ("diskofferingid", "string", "the ID of the disk offering of the virtual machine. This parameter should not "
     "be used for retrieving disk offering details of DATA volumes. Use listVolumes API instead"),
    ("diskofferingname", "string", "the name of the disk offering of the virtual machine. This parameter should "
     "not be used for retrieving disk offering details of DATA volumes. Use listVolumes API instead"),
    ("cpunumber", "integer", "the number of vCPUs this virtual machine is using"),
    ("cpuspeed", "integer", "the speed of each vCPU"),
    ("memory", "integer", "the memory allocated for the virtual machine"),
    ("guestosid", "string", "Os type ID of the virtual machine"),
    ("ostypeid", "string", "OS type id of the vm"),
    ("osdisplayname", "string", "OS name of the vm"),
    ("rootdeviceid", "long", "device ID of the root volume"),
    ("rootdevicetype", "string", "device type of the root volume"),
    ("hypervisor", "string", "the hypervisor on which the template runs"),
    ("instancename", "string", "instance name of the user vm; this parameter is returned to the ROOT admin "
     "only"),
    ("isdynamicallyscalable", "boolean", "true if vm contains XS/VMWare tools inorder to support dynamic scaling "
     "of VM cpu/memory."),
    ("displayvm", "boolean", "an optional field whether to the display the vm to the end user or not."),
    ("nic", "set", "the list of nics associated with vm"),
    ("securitygroup", "set", "list of security groups associated with the virtual machine"),
    ("affinitygroup", "set", "list of affinity groups associated with the virtual machine"),
    ("tags", "set", "the list of resource tags associated"),
    ("hasannotations", "boolean", "true if the entity/resource has annotations"),
])

_Iso = aliased(VMTemplate, name="iso")
_Template = aliased(VMTemplate, name="template")

# (response key, column) for everything a row of the page carries, in the order rendered
_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("id", VMInstance.uuid),
    ("name", VMInstance.name),
    ("displayname", VMInstance.display_name),
    ("account", Account.name),
    ("userid", User.uuid),
    ("username", User.username),
    ("domainid", Domain.uuid),
    ("domain", Domain.name),
    ("domainpath", Domain.path),
    ("created", VMInstance.created),
    ("lastupdated", VMInstance.update_time),
    ("state", VMInstance.state),
    ("haenable", VMInstance.ha_enabled),
    ("group", VMInstance.group_name),
    ("zoneid", Zone.uuid),
    ("zonename", Zone.name),
    ("hostid", Host.uuid),
    ("hostname", Host.name),
    ("podid", Pod.uuid),
    ("clusterid", Cluster.uuid),
    ("clustername", Cluster.name),
    ("templateid", _Template.uuid),
    ("templatename", _Template.name),
    ("templatedisplaytext", _Template.display_text),
    ("templatetype", _Template.template_type),
    ("passwordenabled", _Template.password_enabled),
    ("isoid", _Iso.uuid),
    ("isoname", _Iso.name),
    ("isodisplaytext", _Iso.display_text),
    ("serviceofferingid", ServiceOffering.uuid),
    ("serviceofferingname", ServiceOffering.name),
    ("diskofferingid", DiskOffering.uuid),
    ("diskofferingname", DiskOffering.name),
    ("cpunumber", VMInstance.cpu),
    ("cpuspeed", VMInstance.speed),
    ("memory", VMInstance.ram_size),
    ("ostypeid", GuestOS.uuid),
    ("osdisplayname", GuestOS.display_name),
    ("hypervisor", VMInstance.hypervisor_type),
    ("instancename", VMInstance.instance_name),
    ("displayvm", VMInstance.display_vm),
)
_KEYS = tuple(key for key, _ in _COLUMNS)
# keys only root admins see (CloudStack's UserVmJoinDaoImpl)
_ADMIN_ONLY = frozenset({"hostid", "hostname", "podid", "clusterid", "clustername", "instancename"})


def vm_page_query(page: Subquery | None = None) -> Select[Any]:
    """The SELECT of listVirtualMachines' rows: every rendered column, joined in one statement.

    With `page` (a subquery of instance ids: the filtered, ordered, limited page) the joins run for those rows
    only. Without it, whatever the caller adds with `.where()` decides the rows. The page-first form keeps a
    query planner from joining every instance and sorting them all before taking a page, which SQLite does once
    ANALYZE has shown it a handful of accounts and offerings.
    """
    query = select(*(column for _, column in _COLUMNS))
    if page is not None:
        query = query.select_from(page).join(VMInstance, VMInstance.id == page.c.id)
    else:
        query = query.select_from(VMInstance)
    return (
        query
        .join(Account, VMInstance.account_id == Account.id)
        .join(Domain, VMInstance.domain_id == Domain.id)
        .join(Zone, VMInstance.zone_id == Zone.id)
        .join(ServiceOffering, VMInstance.service_offering_id == ServiceOffering.id)
        .outerjoin(User, VMInstance.user_id == User.id)
        .outerjoin(Host, VMInstance.host_id == Host.id)
        .outerjoin(Pod, VMInstance.pod_id == Pod.id)
        .outerjoin(Cluster, VMInstance.cluster_id == Cluster.id)
        .outerjoin(_Template, VMInstance.template_id == _Template.id)
        .outerjoin(_Iso, VMInstance.iso_id == _Iso.id)
        .outerjoin(DiskOffering, VMInstance.disk_offering_id == DiskOffering.id)
        .outerjoin(GuestOS, VMInstance.guest_os_id == GuestOS.id)
    )


def page_of_ids(ids: Select[Any], offset: int, limit: int | None) -> Select[Any]:
    """listVirtualMachines' statement for one page: `ids` (a SELECT of VMInstance.id with every filter)
    ordered and cut to the page first, then joined to everything rendered."""
    page = ids.order_by(VMInstance.id).offset(offset).limit(limit).subquery("page")
    return vm_page_query(page).order_by(VMInstance.id)


def render_vm_row(row: Any, *, admin: bool) -> dict[str, Any]:
    """One UserVmResponse from a row of `vm_page_query()`."""
    vm = dict(zip(_KEYS, row, strict=True))
    # dates rendered here, once, in CloudStack's format (what responses.clean would do per value)
    vm["created"] = format_date(vm["created"])
    if vm["lastupdated"] is not None:
        vm["lastupdated"] = format_date(vm["lastupdated"])
    if vm["displayname"] is None:
        vm["displayname"] = vm["name"]
    path = vm["domainpath"]  # as CloudStack shows it: ROOT, ROOT/Sales, ...
    vm["domainpath"] = "ROOT" + path.rstrip("/") if path != "/" else "ROOT"
    vm["guestosid"] = vm["ostypeid"]
    if vm["templateid"] is None and vm["isoid"] is not None:
        vm["templateid"] = "-1"
    vm["rootdeviceid"] = 0
    vm["rootdevicetype"] = "ROOT"
    vm["isdynamicallyscalable"] = False
    vm["nic"] = []  # no networking yet: an instance has no NICs to show
    vm["securitygroup"] = []
    vm["affinitygroup"] = []
    vm["tags"] = []
    vm["hasannotations"] = False
    if not admin:
        for key in _ADMIN_ONLY:
            vm.pop(key, None)
    return vm


# built once: a statement memoizes its cache key, and computing this big one's on every call cost more than the query
_ONE_VM = vm_page_query().where(VMInstance.id == bindparam("vm_id"))


def render_vm(db: Session, vm_id: int, *, admin: bool) -> dict[str, Any]:
    """One instance's UserVmResponse by its internal id (for commands that answer with one instance)."""
    row = db.connection().execute(_ONE_VM, {"vm_id": vm_id}).one()
    return render_vm_row(row, admin=admin)


def _conditions(db: Session, caller: Caller, p: dict[str, Any]) -> list[Any]:
    where: list[Any] = [VMInstance.removed.is_(None)]
    if "id" in p:
        where.append(VMInstance.uuid == p["id"])
    if "ids" in p:
        where.append(VMInstance.uuid.in_(p["ids"]))
    if "name" in p:
        where.append(VMInstance.name == p["name"])
    if "displayname" in p:
        where.append(VMInstance.display_name == p["displayname"])
    if "state" in p:
        if p["state"].lower() == "present":
            where.append(VMInstance.state.notin_(("Destroyed", "Expunging")))
        else:
            where.append(matches_value(VMInstance.state, p["state"], VM_STATES))
    if "haenable" in p:
        where.append(VMInstance.ha_enabled.is_(p["haenable"]))
    if "keyword" in p:
        pattern = keyword_pattern(p["keyword"])
        where.append(VMInstance.name.ilike(pattern, escape="\\")
                     | VMInstance.display_name.ilike(pattern, escape="\\")
                     | VMInstance.state.ilike(pattern, escape="\\"))
    lookups = (("zoneid", Zone, "zone", VMInstance.zone_id), ("templateid", VMTemplate, "template",
               VMInstance.template_id), ("isoid", VMTemplate, "ISO", VMInstance.iso_id),
               ("serviceofferingid", ServiceOffering, "service offering", VMInstance.service_offering_id))
    for param, model, entity, column in lookups:
        if param in p:
            where.append(column == filter_row_id(db, model, p[param], entity, param))
    placement = (("hostid", Host, "host", VMInstance.host_id), ("podid", Pod, "pod", VMInstance.pod_id),
                 ("clusterid", Cluster, "cluster", VMInstance.cluster_id))
    for param, model, entity, column in placement:
        if param in p:
            if not caller.is_root_admin:
                raise param_error(f"Invalid parameter {param}: only root admins may list instances by {entity}")
            where.append(column == filter_row_id(db, model, p[param], entity, param))
    if "userid" in p:
        where.append(VMInstance.user_id == filter_row_id(db, User, p["userid"], "user", "userid"))
    if "hypervisor" in p:
        where.append(matches_hypervisor(VMInstance.hypervisor_type, p["hypervisor"]))
    if "tags" in p:
        where.append(tag_filter(db, "UserVm", p["tags"], VMInstance.id))
    if not caller.is_root_admin:
        where.append(VMInstance.state.notin_(HIDDEN_FROM_USERS))
        where.append(VMInstance.display_vm.is_(True))
    return where


@api_command(
    "listVirtualMachines", description="List the virtual machines owned by the account.",
    response="virtualmachine", roles=ALL_ROLES,
    params=[
        Param("id", "uuid", description="the ID of the virtual machine"),
        Param("ids", "list", collection_type="uuid", description="the IDs of the virtual machines, mutually "
              "exclusive with id", since="4.4"),
        Param("name", description="name of the virtual machine (a substring match is done with keyword)"),
        Param("displayname", description="list by the display name of the virtual machine", since="4.18.0"),
        Param("state", description="state of the virtual machine. Possible "
              "values are: Running, Stopped, Present, Destroyed, Expunged. Present is used for the state equal "
              "not destroyed."),
        Param("zoneid", "uuid", description="the availability zone ID"),
        Param("hostid", "uuid", description="the host ID"),
        Param("podid", "uuid", description="the pod ID"),
        Param("clusterid", "uuid", description="the cluster ID", since="4.16.0"),
        Param("templateid", "uuid", description="list vms by template"),
        Param("isoid", "uuid", description="list vms by iso"),
        Param("serviceofferingid", "uuid", description="list by the service offering", since="4.4"),
        Param("userid", "uuid", description="the user ID that created the VM and is under the account that owns "
              "the VM", since="4.16.0"),
        Param("haenable", "boolean", description="list by the High Availability offering; true if filtering VMs "
              "with HA enabled; false for VMs with HA disabled", since="4.15"),
        Param("hypervisor", description="the target hypervisor for the template"),
        Param("details", "list", description="comma separated list of vm details requested, value can be a list "
              "of [all, group, nics, stats, secgrp, tmpl, servoff, diskoff, backoff, iso, volume, min, "
              "affgrp]. All details are always returned."),
        Param("forvirtualnetwork", "boolean", description="list by network type; true if need to list vms using "
              "Virtual Network, false otherwise (networking is not supported yet: ignored)"),
        Param("networkid", "uuid", description="list by network id (networking is not supported yet: no "
              "instance matches)"),
        Param("groupid", "uuid", description="the group ID (instance groups are not supported yet: no instance "
              "matches)"),
        TAGS_PARAM,
        *ACCOUNT_SCOPE_PARAMS,
        *PAGING_PARAMS,
    ],
)
def list_virtual_machines(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    caller = ctx.user
    if "id" in p and "ids" in p:
        raise param_error("Either id or ids parameter can be passed, not both")
    window = page_window(db, p)
    where = _conditions(db, caller, p)
    if "networkid" in p or "groupid" in p:
        where.append(VMInstance.id.is_(None))
    scope = scope_of_id(p)
    count_query = scope_owned(db, caller, select(func.count(VMInstance.id)).where(*where), VMInstance, scope)
    total = db.scalar(count_query) or 0
    if total == 0:
        return ListResponse("virtualmachine", [], 0)
    offset, limit = window if window is not None else (0, None)
    ids = scope_owned(db, caller, select(VMInstance.id).where(*where), VMInstance, scope)
    # a Core execution on the unit of work's connection: plain rows, no ORM loading machinery per row
    rows = db.connection().execute(page_of_ids(ids, offset, limit)).all()
    admin = caller.is_root_admin
    return ListResponse("virtualmachine", attach_tags(db, "UserVm", [render_vm_row(row, admin=admin) for row in rows]),
                        total)
