// "What if this node fails?": the answer of rehearseFailoverClusterFailure shown as Failover Cluster Manager would
// show the cluster once the failover has settled: Roles with their new owners, Nodes, the quorum. Roles that would
// stay down are in red with the reason. The rehearsal runs on a copy of the cluster's state; nothing changes.

import { call, list, listAll } from "../api.js";
import { h, link, pageHead } from "../dom.js";
import { badge, bytes } from "../format.js";
import { DataTable, localLoader } from "../table.js";

// rehearseFailoverClusterFailure's reasons, as an operator reads them.
const REASONS = {
  QuorumLost: "Quorum lost: the cluster stops and no role runs",
  NoAutoStart: "No Auto Start (priority 0): it moves to a surviving node and stays off",
  FailoverThreshold: "Failover threshold exceeded: the cluster already failed it over as often as its threshold allows",
  DiskFailed: "Its cluster disk fails with the nodes",
  NoPossibleOwner: "No possible owner node survives",
  NotEnoughMemory: "Not enough memory free on any surviving node",
  WasOff: "It was not running before either",
};

export function rehearsalPath(clusterid, nodes) {
  return `/client/clusters/${clusterid}/whatif?nodes=${encodeURIComponent(nodes.join(","))}`;
}

function question(nodes) {
  if (nodes.length === 1) return `What if ${nodes[0]} fails?`;
  return `What if ${nodes.slice(0, -1).join(", ")} and ${nodes[nodes.length - 1]} fail?`;
}

// A role that ran (or wanted to) and would not run afterwards; one that was off before is not at risk.
function downAfter(role) {
  return Boolean(role.staysdown) && role.reason !== "WasOff";
}

function roleStatus(role) {
  return role.vmstate && role.status !== "Failed" ? role.vmstate : role.status;
}

function information(role) {
  if (role.staysdown) {
    const why = REASONS[role.reason] ?? role.reason ?? "It stays down";
    return h("span", { class: downAfter(role) ? "explain bad" : "explain" }, `Stays down: ${why}.`,
      role.information && !why.startsWith(role.information) ? ` ${role.information}` : "");
  }
  const parts = [];
  if (role.ownernodebefore && role.ownernodebefore !== role.ownernode) parts.push(`Moves from ${role.ownernodebefore}`);
  if (role.information) parts.push(role.information);
  if (role.antiaffinityclash) parts.push("shares its node with a role of the same anti-affinity class");
  return parts.join("; ");
}

function rolesTable(answer) {
  return new DataTable({
    label: "Roles after the failure", searchable: true, pagesize: 50,
    columns: [
      { key: "name", label: "Name", render: (r) => r.virtualmachineid
        ? [link(`/client/instances/${r.virtualmachineid}`, r.name), h("span", { class: "subname" }, r.virtualmachinename)]
        : r.name },
      { key: "status", label: "Status", value: roleStatus, render: (r) => badge(roleStatus(r)) },
      { key: "type", label: "Type", render: () => "Virtual Machine" },
      { key: "ownernode", label: "Owner Node", render: (r) => r.ownernode ?? "—" },
      { key: "priority", label: "Priority", value: (r) => r.priorityvalue },
      { key: "information", label: "Information", wrap: true, value: (r) => r.reason ?? r.information, render: information },
      { key: "restartorder", label: "Restart Order", render: (r) => r.restartorder ?? "—" },
    ],
    load: localLoader(async () => answer().role ?? [], ["name", "virtualmachinename", "ownernode", "reason"]),
    rowClass: (r) => (downAfter(r) ? "whatif-down" : null),
    empty: "No roles.",
  });
}

function nodesTable(answer) {
  return new DataTable({
    label: "Nodes after the failure", searchable: false, pagesize: 50,
    columns: [
      { key: "name", label: "Name", render: (n) => n.hostid ? link(`/client/hosts/${n.hostid}`, n.name) : n.name },
      { key: "status", label: "Status", render: (n) => badge(n.status) },
      { key: "information", label: "Information", render: (n) => (n.failed ? "Fails in this rehearsal" : "") },
      { key: "rolecount", label: "Roles" },
      { key: "runningcount", label: "Running" },
      { key: "memory", label: "Memory", value: (n) => n.memoryfree,
        render: (n) => `${bytes(n.memoryused * 1048576)} used, ${bytes(n.memoryfree * 1048576)} free` },
    ],
    load: localLoader(async () => answer().node ?? [], ["name"]),
    empty: "No nodes.",
  });
}

function quorumPanel(answer) {
  const before = answer.quorumbefore ?? {};
  const after = answer.quorumafter ?? {};
  const entries = [
    ["Verdict", h("strong", { class: answer.survives ? null : "risk no" }, !after.hasquorum
      ? "The cluster loses quorum: every role stops" : answer.survives ? "Every HA role keeps running"
        : "HA roles would stay down")],
    ["Quorum after", badge(after.hasquorum ? "Up" : "Lost")],
    ["Votes after", `${after.votes ?? "?"} (${after.votesneeded ?? "?"} needed)`],
    ["Votes before", `${before.votes ?? "?"} (${before.votesneeded ?? "?"} needed)`],
    ["Settled after", answer.settledafterseconds != null ? `${answer.settledafterseconds} s` : "—"],
    ["Stays down", String(answer.strandedcount ?? 0)],
  ];
  return h("dl", { class: "quorum panel", "aria-label": "Quorum after the failure" }, entries.map(([term, value]) =>
    h("div", {}, h("dt", {}, term), h("dd", {}, value))));
}

export async function mountRehearsal(main, { params, query, navigate }) {
  const clusterid = params.id;
  const nodes = (query.get("nodes") ?? "").split(",").map((n) => n.trim()).filter(Boolean);
  const cluster = (await list("listClusters", "cluster", { id: clusterid })).items[0];
  const crumbs = [["/client/", "Home"], ["/client/clusters", "Clusters"],
    [`/client/clusters/${clusterid}/nodes`, cluster ? `${cluster.name}: Nodes` : "Nodes"]];
  if (!cluster || !nodes.length) {
    main.append(pageHead({ title: cluster ? "Choose a node" : "Cluster not found", crumbs }),
      h("p", {}, link(`/client/clusters/${clusterid}/nodes`, "Pick a node on the Nodes view")));
    return {};
  }
  document.title = `${question(nodes)} · clusterstack`;
  main.append(pageHead({ title: question(nodes), crumbs,
    subtitle: `Failover cluster ${cluster.resourcedetails?.failoverClusterName ?? cluster.name}, rehearsed on a copy of `
      + "its state as the cluster would decide; nothing changes" }));
  let answer = {};
  const summary = h("div");
  const roles = rolesTable(() => answer);
  const nodeTable = nodesTable(() => answer);
  const more = h("div", { class: "action-bar" });
  const body = h("div", {}, summary, h("h2", {}, "Roles"), roles.element, h("h2", {}, "Nodes"), nodeTable.element);
  main.append(more, body);

  async function refresh() {
    try {
      answer = await call("rehearseFailoverClusterFailure", { clusterid, nodes: nodes.join(","), listall: true });
      answer = answer.failoverclusterrehearsal ?? answer;
    } catch (error) {
      body.replaceChildren(h("p", { class: "form-error", role: "alert" }, error.message),
        h("p", {}, link(`/client/clusters/${clusterid}/nodes`, "Back to the nodes")));
      return;
    }
    summary.replaceChildren(quorumPanel(answer));
    await Promise.all([roles.reload(), nodeTable.reload()]);
    // The two-node variant: add another node that would still leave one standing.
    const all = await listAll("listFailoverClusterNodes", "failoverclusternode", { clusterid }).catch(() => []);
    const others = all.filter((n) => !nodes.some((name) => name.toLowerCase() === n.name.toLowerCase()));
    if (others.length > 1) {
      const pick = h("select", { "aria-label": "Another node" }, others.map((n) => h("option", { value: n.name }, n.name)));
      const go = h("button", { type: "button", onclick: () => navigate(rehearsalPath(clusterid, [...nodes, pick.value])) },
        "What if it fails too?");
      more.replaceChildren(h("span", { class: "muted" }, "And another node:"), pick, go);
      if (query.get("another")) pick.focus();
    } else {
      more.replaceChildren();
    }
  }
  await refresh();
  return { refresh, topics: (topic) => topic.startsWith("failovercluster") || topic === "vms" };
}
