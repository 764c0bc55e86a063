"""What each listener may hear of a change: root admins everything, domain admins their subtree, users their
account; finished job ids only ever of the listener's own account."""

from __future__ import annotations

from clusterstack.server.live.changes import Change, FinishedJob, Owner
from clusterstack.server.live.viewer import Viewer

ROOT_ADMIN = Viewer(user_id=2, account_id=2, root_admin=True)
DOMAIN_ADMIN = Viewer(user_id=5, account_id=5, root_admin=False, domains=frozenset({3, 4}))
USER = Viewer(user_id=7, account_id=7, root_admin=False)


def _change() -> Change:
    change = Change(infrastructure={"hosts", "failovercluster:c-1"})
    change.touch("vms", {Owner(7, 3)})  # the user's instance, in the domain admin's domain 3
    change.touch("events", {Owner(2, 1)})  # the root admin's event in ROOT
    change.touch("jobs", {Owner(7, 3), Owner(2, 1)})
    change.finished_jobs.extend([FinishedJob("job-of-7", Owner(7, 3)), FinishedJob("job-of-2", Owner(2, 1))])
    return change


def test_a_root_admin_hears_every_topic_but_only_its_own_jobs() -> None:
    topics, jobs = ROOT_ADMIN.message(_change())
    assert topics == {"hosts", "failovercluster:c-1", "vms", "events", "jobs"}
    assert jobs == ["job-of-2"]


def test_a_domain_admin_hears_owned_topics_of_its_domains_and_no_infrastructure() -> None:
    topics, jobs = DOMAIN_ADMIN.message(_change())
    assert topics == {"vms", "jobs"}
    assert jobs == []


def test_a_user_hears_its_own_account_only() -> None:
    topics, jobs = USER.message(_change())
    assert topics == {"vms", "jobs"}
    assert jobs == ["job-of-7"]
    quiet = Change(infrastructure={"hosts", "alerts"})
    quiet.touch("vms", {Owner(2, 1)})
    quiet.touch("events", {Owner(None, None)})  # a system event belongs to nobody
    assert USER.message(quiet) == (set(), [])
    assert DOMAIN_ADMIN.message(quiet) == (set(), [])


def test_an_empty_change_is_false_and_touching_with_no_owner_adds_nothing() -> None:
    change = Change()
    change.touch("vms", set())
    assert not change and change.owned == {}
