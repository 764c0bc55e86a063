"""Releasing what a removed account held, as CloudStack's AccountManagerImpl.cleanupAccount does.

The order is CloudStack's: users first (nobody acts for the account any more), then its templates, then its
instances (destroyed and expunged: the failover cluster's role, the VM and its VHDs are removed), then the data
volumes left detached, then tags, limits and counts. Each instance and each volume is committed on its own, so a
failure half-way (a cluster without quorum, a node that does not answer) loses nothing done before it; the
account keeps `needs_cleanup` until everything is released, and running the cleanup again finishes it.

deleteDomain with cleanup=true does the same for every account of the domain's subtree, children first
(DomainManagerImpl.cleanupDomain); a domain is removed only when none of its accounts needs cleanup any more.

As CloudStack's AccountCleanupTask, a background task also retries every removed account that still needs cleanup,
every `account.cleanup.interval` seconds (a day by default, as in CloudStack).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from clusterstack.hypervisor.base import DriverError
from clusterstack.server import events, settings
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import ApiError
from clusterstack.server.app import register_service
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.catalog import VMTemplate
from clusterstack.server.db.models.identity import Account, Domain, User
from clusterstack.server.db.models.infrastructure import Cluster, StoragePool
from clusterstack.server.db.models.instances import VMInstance, Volume
from clusterstack.server.db.models.limits import ResourceCount, ResourceLimit
from clusterstack.server.db.models.tags import ResourceTag
from clusterstack.server.identity.authentication import caller_for_user_id
from clusterstack.server.identity.removal import remove_users_of
from clusterstack.server.orchestration import vm_lifecycle as lifecycle
from clusterstack.server.orchestration.cluster_access import as_api_error, driver_for, require_quorum
from clusterstack.server.state import ServerState

log = logging.getLogger("clusterstack.server.orchestration.account_cleanup")

CLEANUP_INTERVAL = settings.define_setting(
    "account.cleanup.interval", 86400, "Advanced",
    "The interval (in seconds) between cleanup for removed accounts", minimum=1,
)
DEFAULT_ADMIN_ACCOUNT_ID = 1  # the task acts as the default admin account's first user (CloudStack: the system)


@dataclass
class CleanupReport:
    """What a cleanup released and what it could not (each failure names the resource and why)."""

    expunged: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failures


def mark_removed(db: Session, account: Account) -> None:
    """The first step of deleteAccount (CloudStack's deleteAccount before cleanupAccount): the account is removed
    and its users with it, and it needs cleanup until its resources are released."""
    if account.removed is None:
        account.removed = utcnow()
    account.state = "removed"
    account.needs_cleanup = True
    remove_users_of(db, [account.id])


def expunge_instance(ctx: CallContext, vm: VMInstance) -> None:
    """Destroy and expunge one instance: turned off, its role, VM and VHDs removed from the failover cluster, its
    volumes expunged (what a host and a pool have allocated is derived from the live rows)."""
    db = ctx.db
    cluster = db.get(Cluster, vm.cluster_id) if vm.cluster_id is not None else None
    if cluster is not None and vm.instance_name:
        require_quorum(cluster)  # a cluster without quorum answers no roles: that would not mean the VM is gone
        lifecycle.remove(ctx, vm)
    now = utcnow()
    # (the hosts' and pools' allocations are derived from live instances and volumes: nothing to give back)
    for volume in db.scalars(select(Volume).where(Volume.instance_id == vm.id, Volume.removed.is_(None))):
        volume.state, volume.removed = "Expunged", now
    vm.state = "Expunging"
    vm.host_id = None
    vm.removed = now
    db.flush()
    _drop_tags(db, "UserVm", [vm.id])
    lifecycle.vm_event(db, vm, "VM.DESTROY", f"Destroyed VM {vm.name} as a part of account cleanup")
    lifecycle.vm_event(db, vm, "VM.EXPUNGE", f"Expunged VM {vm.name}: role, VM and disks removed from the "
                       "failover cluster")


def delete_detached_volume(ctx: CallContext, volume: Volume) -> None:
    """Delete a data volume that no instance holds: its VHDX (if it was ever created) is removed from the CSV (the
    pool's allocated space is derived from the live volumes)."""
    db = ctx.db
    pool = db.get(StoragePool, volume.pool_id) if volume.pool_id else None
    if volume.path and pool is not None and pool.cluster_id is not None:
        cluster = db.get(Cluster, pool.cluster_id)
        if cluster is not None:
            require_quorum(cluster)
            try:
                driver_for(ctx.server, cluster).delete_vhd(volume.path)
            except DriverError as exc:
                raise as_api_error(exc, cluster) from None
    volume.state, volume.removed = "Expunged", utcnow()
    _drop_tags(db, "Volume", [volume.id])
    events.record_event(db, "VOLUME.DELETE", f"Deleted volume {volume.name} as a part of account cleanup",
                        events.Actor(account_id=volume.account_id, domain_id=volume.domain_id),
                        resource_type="Volume", resource_uuid=volume.uuid, resource_name=volume.name)


def _drop_tags(db: Session, resource_type: str, resource_ids: list[int]) -> None:
    if resource_ids:
        db.execute(delete(ResourceTag).where(ResourceTag.resource_type == resource_type,
                                             ResourceTag.resource_id.in_(resource_ids)))


def _failure(report: CleanupReport, what: str, exc: Exception) -> None:
    text = exc.text if isinstance(exc, ApiError) else f"{exc.__class__.__name__}: {exc}"
    report.failures.append(f"{what}: {text}")
    log.warning("account cleanup: %s: %s", what, text)


def clean_up_account(ctx: CallContext, account: Account) -> CleanupReport:
    """Release everything the (removed) account holds; commits as it goes. `needs_cleanup` is cleared only when
    nothing is left."""
    db = ctx.db
    report = CleanupReport()
    account_id = account.id
    remove_users_of(db, [account_id])
    now = utcnow()
    templates = list(db.scalars(select(VMTemplate).where(VMTemplate.account_id == account_id,
                                                         VMTemplate.removed.is_(None))))
    for template in templates:
        template.removed = now
    _drop_tags(db, "Template", [t.id for t in templates if not t.is_iso])
    _drop_tags(db, "ISO", [t.id for t in templates if t.is_iso])
    db.commit()
    vm_ids = list(db.scalars(select(VMInstance.id).where(VMInstance.account_id == account_id,
                                                         VMInstance.removed.is_(None)).order_by(VMInstance.id)))
    for vm_id in vm_ids:
        vm = db.get(VMInstance, vm_id)
        if vm is None or vm.removed is not None:
            continue
        name = vm.name
        try:
            expunge_instance(ctx, vm)
            db.commit()
            report.expunged.append(name)
        except Exception as exc:  # CloudStack goes on with the next instance, and so do we
            db.rollback()
            _failure(report, f"instance {name}", exc)
    volume_ids = list(db.scalars(select(Volume.id).where(Volume.account_id == account_id, Volume.removed.is_(None),
                                                         Volume.instance_id.is_(None)).order_by(Volume.id)))
    for volume_id in volume_ids:
        volume = db.get(Volume, volume_id)
        if volume is None or volume.removed is not None:
            continue
        name = volume.name
        try:
            delete_detached_volume(ctx, volume)
            db.commit()
            report.volumes.append(name)
        except Exception as exc:
            db.rollback()
            _failure(report, f"volume {name}", exc)
    account = db.get(Account, account_id)  # type: ignore[assignment]
    db.execute(delete(ResourceTag).where(ResourceTag.account_id == account_id))
    if report.complete:
        db.execute(delete(ResourceCount).where(ResourceCount.account_id == account_id))
        db.execute(delete(ResourceLimit).where(ResourceLimit.account_id == account_id))
        account.needs_cleanup = False
    db.commit()
    return report


def accounts_of_subtree(db: Session, domain: Domain) -> list[Account]:
    """Accounts of the domain and every domain under it, deepest domains first (children are cleaned first);
    live accounts and removed accounts whose cleanup is still pending."""
    subtree = select(Domain.id).where(Domain.path.startswith(domain.path, autoescape=True))
    return list(db.scalars(
        select(Account).join(Domain, Domain.id == Account.domain_id)
        .where(Account.domain_id.in_(subtree), Account.removed.is_(None) | Account.needs_cleanup.is_(True))
        .order_by(Domain.level.desc(), Account.id)
    ))


def pending_cleanups(db: Session, domain_ids: list[int]) -> list[str]:
    """Names of the removed accounts in these domains whose resources are not all released."""
    return list(db.scalars(select(Account.name).where(Account.domain_id.in_(domain_ids),
                                                      Account.needs_cleanup.is_(True)).order_by(Account.id)))


class AccountCleanupService:
    """CloudStack's AccountCleanupTask: removed accounts that still need cleanup are cleaned up again, every
    account.cleanup.interval seconds (read each second, so a change applies without a restart)."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="account-cleanup", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(1.0):
            try:
                with self.state.database.session() as db:
                    interval = float(settings.get(db, CLEANUP_INTERVAL))
                if time.monotonic() - last < interval:
                    continue
                last = time.monotonic()
                self.sweep()
            except Exception:
                log.exception("account cleanup task failed")

    def sweep(self) -> int:
        """Clean up every removed account that needs it; answers how many are finished."""
        finished = 0
        with self.state.database.session() as db:
            pending = list(db.scalars(select(Account.id).where(Account.needs_cleanup.is_(True),
                                                               Account.removed.is_not(None)).order_by(Account.id)))
            if not pending:
                return 0
            admin_id = db.scalar(select(User.id).where(User.account_id == DEFAULT_ADMIN_ACCOUNT_ID,
                                                       User.removed.is_(None)).order_by(User.id).limit(1))
            caller = caller_for_user_id(db, admin_id) if admin_id is not None else None
            if caller is None:
                return 0
            for account_id in pending:
                account = db.get(Account, account_id)
                if account is None or not account.needs_cleanup:
                    continue
                ctx = CallContext(db=db, caller=caller, server=self.state, command="accountCleanup",
                                  request_id="acctclean")
                report = clean_up_account(ctx, account)
                if report.complete:
                    finished += 1
                    log.info("Cleanup for account %s is not needed any more", account.name)
                else:
                    log.info("Cleanup for account %s is still needed: %s", account.name, "; ".join(report.failures))
        return finished


register_service("account-cleanup", AccountCleanupService)
