// A cluster's page as Failover Cluster Manager shows it: Roles, Nodes, Disks and Cluster Events, each at its own
// URL, with the quorum model and state, and the actions an operator takes there (move a role, drain, resume, clear
// a node's quarantine).

import { call, list, listAll } from "../api.js";
import { confirmAction, field, formValues, openDialog } from "../dialog.js";
import { h, link, pageHead } from "../dom.js";
import { nodeInformation, roleInformation } from "../explain.js";
import { badge, bytes, gigabytes, percent, timeElement } from "../format.js";
import { actionButton, trackJob } from "../jobs.js";
import { DataTable, localLoader } from "../table.js";
import { rehearsalPath } from "./rehearsal.js";

const VIEWS = [["roles", "Roles"], ["nodes", "Nodes"], ["disks", "Disks"], ["events", "Cluster Events"]];

function quorumPanel(fc) {
  if (!fc) return h("p", { class: "notice" }, "The failover cluster is not known yet.");
  const entries = [
    ["Failover cluster", `${fc.name}${fc.address ? ` (${fc.address})` : ""}`],
    ["State", badge(fc.state)],
    ["Quorum", badge(fc.quorumstate)],
    ["Quorum model", `${fc.quorummodel ?? "—"}${fc.witness ? ` · witness ${fc.witness}` : ""}`],
    ["Votes", `${fc.votes ?? "?"} (${fc.votesneeded ?? "?"} needed)`],
    ["Nodes up", `${fc.nodesup ?? "?"} of ${fc.nodecount ?? "?"}`],
    ["Roles online", `${fc.rolesonline ?? "?"} of ${fc.rolecount ?? "?"}`],
  ];
  return h("dl", { class: "quorum panel", "aria-label": "Quorum" }, entries.map(([term, value]) =>
    h("div", {}, h("dt", {}, term), h("dd", {}, value))));
}

async function moveRole(clusterid, role, nodes) {
  const targets = nodes.filter((node) => node.name !== role.ownernode);
  const chosen = await openDialog({
    title: `Move ${role.name}`, submitLabel: "Move",
    message: `Move the role from ${role.ownernode ?? "its node"} to another node of the failover cluster.`,
    fields: [
      field("Node", "node", { kind: "select", required: true,
        options: targets.map((node) => [node.name, `${node.name} (${node.status})`]) }),
      field("Migration", "migrationtype", { kind: "select", value: "live",
        options: [["live", "Live migration"], ["quick", "Quick migration"]],
        hint: "Live keeps the VM running; quick saves it, moves it and resumes it." }),
    ],
    submit: (form) => formValues(form),
  });
  if (!chosen) return;
  await trackJob(`Move ${role.name} to ${chosen.node}`, () => call("moveFailoverClusterRole",
    { clusterid, name: role.name, node: chosen.node, migrationtype: chosen.migrationtype }));
}

async function nodeAction(clusterid, node, drain) {
  const title = drain ? "Pause and drain roles" : "Resume";
  const message = drain
    ? `Pause ${node.name} and drain its roles to the other nodes (Suspend-ClusterNode -Drain).`
    : `Resume ${node.name} so it can own roles again.`;
  if (!await confirmAction(`${title}: ${node.name}`, message, { submitLabel: drain ? "Drain" : "Resume", danger: drain })) return;
  await trackJob(`${drain ? "Drain" : "Resume"} ${node.name}`, () =>
    call(drain ? "suspendFailoverClusterNode" : "resumeFailoverClusterNode", { clusterid, name: node.name }));
}

async function clearQuarantine(clusterid, node) {
  const message = `${node.name} failed too often within an hour, so the failover cluster keeps it out of the cluster `
    + "(quarantine) and its host is Down. Clear the quarantine to let it rejoin now (Start-ClusterNode -ClearQuarantine); "
    + "its machine must be running.";
  if (!await confirmAction(`Clear quarantine: ${node.name}`, message, { submitLabel: "Clear quarantine" })) return;
  await trackJob(`Clear quarantine of ${node.name}`, () =>
    call("clearFailoverClusterNodeQuarantine", { clusterid, name: node.name }));
}

// A node's name linked to its CloudStack host's page, when the node is a host of the cloud.
function hostLink(name, hostid) {
  if (!name) return "—";
  return hostid ? link(`/client/hosts/${hostid}`, name) : name;
}

function hostOfNode(nodes, name) {
  return nodes.find((node) => node.name.toLowerCase() === String(name ?? "").toLowerCase())?.hostid ?? null;
}

// The windows event log's short source names, as Event Viewer and Failover Cluster Manager show them.
function shortSource(source) {
  return String(source ?? "").replace(/^Microsoft-Windows-/, "");
}

function nodeActions(clusterid, node, admin, after) {
  if (!admin) return [];
  if (node.status === "Paused") return [actionButton("Resume", `Resume ${node.name}`, () => nodeAction(clusterid, node, false), after)];
  if (node.status === "Up") return [actionButton("Drain", `Drain ${node.name}`, () => nodeAction(clusterid, node, true), after)];
  if (node.status === "Quarantined") {
    return [actionButton("Clear quarantine", `Clear quarantine of ${node.name}`, () => clearQuarantine(clusterid, node), after)];
  }
  return [];
}

// Failover Cluster Manager shows a virtual machine role by its VM's state (Running, Off, Saved...), other roles
// by the group's state (Online, Offline, Failed).
function roleStatus(role) {
  return role.type === "Virtual Machine" && role.vmstate && role.status !== "Failed" ? role.vmstate : role.status;
}

// The role's name (the instance's internal name, i-2-5-VM) and beside it the CloudStack instance's name.
function roleName(role) {
  if (!role.virtualmachineid) return role.name;
  return [link(`/client/instances/${role.virtualmachineid}`, role.name, { title: role.displayname ?? role.virtualmachinename }),
    h("span", { class: "subname" }, role.virtualmachinename)];
}

function rolesTable(clusterid, getNodes, getCluster, after) {
  let nodes = [];
  return new DataTable({
    label: "Roles",
    columns: [
      { key: "name", label: "Name", render: roleName },
      { key: "status", label: "Status", value: roleStatus, render: (r) => badge(roleStatus(r)) },
      { key: "type", label: "Type" },
      { key: "ownernode", label: "Owner Node", render: (r) => hostLink(r.ownernode, hostOfNode(nodes, r.ownernode)) },
      { key: "priority", label: "Priority", value: (r) => r.priorityvalue },
      { key: "information", label: "Information", wrap: true, value: (r) => r.information,
        render: (r) => roleInformation(r, getCluster()?.nodecount) },
    ],
    load: async ({ page, pagesize, keyword }) => {
      const [roles, known] = await Promise.all([
        list("listFailoverClusterRoles", "failoverclusterrole", { clusterid, page, pagesize, keyword }),
        getNodes().catch(() => []),
      ]);
      nodes = known;
      return roles;
    },
    rowActions: (role) => [actionButton("Move", `Move ${role.name}`, async () => moveRole(clusterid, role, await getNodes()), after)],
    empty: "No roles.",
  });
}

// "What if this node fails?" (and, with three nodes or more, with another one): the rehearsal's page.
function whatIfActions(clusterid, node, nodecount) {
  if (!["Up", "Paused"].includes(node.status)) return [];
  const actions = [link(rehearsalPath(clusterid, [node.name]), "What if this node fails?",
    { class: "button small", "aria-label": `What if ${node.name} fails?` })];
  if (nodecount >= 3) {
    actions.push(link(`${rehearsalPath(clusterid, [node.name])}&another=1`, "…and another?",
      { class: "button small", "aria-label": `What if ${node.name} and another node fail?` }));
  }
  return actions;
}

function nodesTable(clusterid, admin, after) {
  let nodecount = 0;
  return new DataTable({
    label: "Nodes",
    columns: [
      { key: "name", label: "Name", render: (n) => hostLink(n.name, n.hostid) },
      { key: "status", label: "Status", render: (n) => badge(n.status) },
      { key: "assignedvote", label: "Assigned Vote" },
      { key: "currentvote", label: "Current Vote" },
      { key: "information", label: "Information", value: nodeInformation, render: nodeInformation, wrap: true },
      { key: "hostname", label: "CloudStack Host", render: (n) => hostLink(n.hostname, n.hostid) },
      { key: "memory", label: "Memory", value: (n) => n.memoryused,
        render: (n) => n.memorytotal ? `${bytes(n.memoryused * 1048576)} of ${bytes(n.memorytotal * 1048576)}` : "—" },
    ],
    load: async ({ page, pagesize, keyword }) => {
      const nodes = await list("listFailoverClusterNodes", "failoverclusternode", { clusterid, page, pagesize, keyword });
      nodecount = keyword ? Math.max(nodecount, nodes.count) : nodes.count;
      return nodes;
    },
    rowActions: (node) => [...nodeActions(clusterid, node, admin, after), ...(admin ? whatIfActions(clusterid, node, nodecount) : [])],
    empty: "No nodes.",
  });
}

function disksView(clusterid) {
  let disks = [];
  const volumes = h("div", { class: "grid" });
  const table = new DataTable({
    label: "Disks", searchable: false,
    columns: [
      { key: "name", label: "Name" },
      { key: "status", label: "Status", render: (d) => badge(d.status) },
      { key: "assignedto", label: "Assigned To" },
      { key: "ownernode", label: "Owner Node" },
      { key: "disknumber", label: "Disk Number" },
      { key: "capacity", label: "Capacity", render: (d) => gigabytes(d.capacity) },
    ],
    load: localLoader(async () => {
      disks = await listAll("listFailoverClusterDisks", "failoverclusterdisk", { clusterid });
      return disks;
    }, ["name"]),
    empty: "No disks.",
  });
  async function reload() {
    await table.reload();
    volumes.replaceChildren(...disks.filter((d) => d.path).map((d) => {
      const used = Number(d.capacity) - Number(d.freespace);
      const fill = h("span");
      const share = percent(used, d.capacity);
      fill.style.width = `${share}%`;
      return h("section", { class: "panel", "aria-label": `Volume ${d.path}` },
        h("h3", {}, d.name), h("p", {}, h("strong", {}, d.path)),
        h("div", { class: "bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(share),
          "aria-label": `${d.path} used` }, fill),
        h("p", { class: "csv-free" }, `CSVFS ${gigabytes(d.freespace)} free of ${gigabytes(d.capacity)}`),
        d.redirectednodes?.length ? h("p", { class: "muted" }, `Redirected access on ${d.redirectednodes.join(", ")}`) : null);
    }));
  }
  return { element: h("div", {}, table.element, h("h2", {}, "Volumes"), volumes), reload };
}

// A cluster event's message: its first two lines, the whole text on a click (Event Viewer's detail pane).
function eventMessage(event) {
  return h("details", {}, h("summary", { title: "Show the whole message" }, event.message ?? ""));
}

function eventsTable(clusterid, getNodes) {
  let nodes = [];
  const level = h("select", { "aria-label": "Level" },
    [["", "All levels"], ["Critical", "Critical"], ["Error", "Error"], ["Warning", "Warning"], ["Information", "Information"]]
      .map(([value, text]) => h("option", { value }, text)));
  const table = new DataTable({
    label: "Cluster Events", pagesize: 25, compact: true,
    columns: [
      { key: "level", label: "Level", render: (e) => badge(e.level) },
      { key: "created", label: "Date and Time", render: (e) => timeElement(e.created), value: (e) => Number(e.id) },
      { key: "source", label: "Source", render: (e) => h("span", { title: e.source }, shortSource(e.source)) },
      { key: "eventid", label: "Event ID" },
      { key: "node", label: "Node", render: (e) => hostLink(e.node, hostOfNode(nodes, e.node)) },
      { key: "message", label: "Message", className: "message", render: eventMessage },
    ],
    load: async ({ page, pagesize, keyword }) => {
      const [events, known] = await Promise.all([
        list("listFailoverClusterEvents", "failoverclusterevent", { clusterid, page, pagesize, keyword, level: level.value }),
        getNodes().catch(() => []),
      ]);
      nodes = known;
      return events;
    },
    tools: [level],
    empty: "No cluster events.",
  });
  level.addEventListener("change", () => { table.page = 1; table.reload(); });
  return table;
}

export async function mountFailoverCluster(main, { params, navigate, admin }) {
  const clusterid = params.id;
  const view = params.view ?? "roles";
  if (!params.view) {
    navigate(`/client/clusters/${clusterid}/roles`, { replace: true });
    return {};
  }
  const cluster = (await list("listClusters", "cluster", { id: clusterid })).items[0];
  if (!cluster) {
    main.append(pageHead({ title: "Cluster not found", crumbs: [["/client/clusters", "Clusters"]] }));
    return {};
  }
  const quorum = h("div");
  let nodesCache = null;
  let fc = null;
  const getNodes = async () => nodesCache ?? (nodesCache = await listAll("listFailoverClusterNodes", "failoverclusternode", { clusterid }));
  const tabs = h("nav", { class: "tabs", "aria-label": "Failover cluster views" }, VIEWS.map(([key, text]) =>
    link(`/client/clusters/${clusterid}/${key}`, text, { "aria-current": key === view ? "page" : null })));
  let body;
  const refreshAll = () => refresh();
  if (view === "roles") body = rolesTable(clusterid, getNodes, () => fc, refreshAll);
  else if (view === "nodes") body = nodesTable(clusterid, admin, refreshAll);
  else if (view === "disks") body = disksView(clusterid);
  else body = eventsTable(clusterid, getNodes);

  async function refresh() {
    nodesCache = null;
    try {
      fc = (await list("listFailoverClusters", "failovercluster", { clusterid })).items[0] ?? null;
      quorum.replaceChildren(quorumPanel(fc));
    } catch (error) {
      quorum.replaceChildren(h("p", { class: "form-error", role: "alert" }, error.message));
    }
    await body.reload();
  }

  const title = VIEWS.find(([key]) => key === view)[1];
  main.append(pageHead({ title: `${cluster.name}: ${title}`,
    crumbs: [["/client/", "Home"], ["/client/infrastructure", "Infrastructure"], ["/client/clusters", "Clusters"]],
    subtitle: `Failover cluster ${cluster.resourcedetails?.failoverClusterName ?? cluster.name} · ${cluster.zonename} / ${cluster.podname}` }),
  quorum, tabs, body.element);
  await refresh();
  return {
    refresh,
    topics: (topic) => topic.startsWith("failovercluster") || topic === "hosts" || topic === "vms" || topic === "jobs",
  };
}
