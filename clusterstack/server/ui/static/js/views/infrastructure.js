// Infrastructure: zones, pods, clusters (each a failover cluster), hosts and primary storage, each its own list.

import { call, list } from "../api.js";
import { confirmAction } from "../dialog.js";
import { h, link, pageHead } from "../dom.js";
import { badge, bytes, percent } from "../format.js";
import { hypervisorLabel, isHyperv } from "../hypervisor.js";
import { actionButton, trackJob } from "../jobs.js";
import { DataTable } from "../table.js";

const CRUMBS = [["/client/", "Home"], ["/client/infrastructure", "Infrastructure"]];
const SECTIONS = [
  ["Zones", "/client/zones", "listZones", "zone"],
  ["Pods", "/client/pods", "listPods", "pod"],
  ["Clusters", "/client/clusters", "listClusters", "cluster"],
  ["Hosts", "/client/hosts", "listHosts", "host", { type: "Routing" }],
  ["Primary Storage", "/client/storage", "listStoragePools", "storagepool"],
];

export async function mountInfrastructure(main) {
  const grid = h("div", { class: "grid" });
  main.append(pageHead({ title: "Infrastructure", crumbs: [["/client/", "Home"]] }), grid);
  async function refresh() {
    const counts = await Promise.all(SECTIONS.map(([, , command, key, extra]) =>
      list(command, key, { pagesize: 1, page: 1, ...(extra ?? {}) })));
    grid.replaceChildren(...SECTIONS.map(([title, href], index) => h("section", { class: "panel" },
      h("h2", {}, link(href, title)), h("div", { class: "big-number" }, String(counts[index].count)),
      link(href, `View all ${title.toLowerCase()}`))));
  }
  await refresh();
  return { refresh, topics: (topic) => ["hosts", "clusters", "storage"].includes(topic) };
}

function listPage(main, { title, label, columns, command, key, params = {}, rowActions, tools = [], topics }) {
  const table = new DataTable({
    label, columns, rowActions, tools,
    load: ({ page, pagesize, keyword }) => list(command, key, { page, pagesize, keyword, ...params }),
  });
  main.append(pageHead({ title, crumbs: CRUMBS }), table.element);
  return table.reload().then(() => ({ refresh: () => table.reload(), topics }));
}

export function mountZones(main) {
  return listPage(main, {
    title: "Zones", label: "Zones", command: "listZones", key: "zone",
    columns: [{ key: "name", label: "Name" }, { key: "networktype", label: "Network Type" },
      { key: "allocationstate", label: "Allocation State", render: (z) => badge(z.allocationstate) }],
  });
}

export function mountPods(main) {
  return listPage(main, {
    title: "Pods", label: "Pods", command: "listPods", key: "pod",
    columns: [{ key: "name", label: "Name" }, { key: "zonename", label: "Zone" }, { key: "gateway", label: "Gateway" },
      { key: "allocationstate", label: "Allocation State", render: (p) => badge(p.allocationstate) }],
  });
}

export function mountClusters(main) {
  return listPage(main, {
    title: "Clusters", label: "Clusters", command: "listClusters", key: "cluster", topics: (t) => t === "clusters",
    columns: [
      { key: "name", label: "Name", render: (c) => isHyperv(c.hypervisortype)
        ? link(`/client/clusters/${c.id}/roles`, c.name) : c.name },
      { key: "failovercluster", label: "Failover Cluster", value: (c) => c.resourcedetails?.failoverClusterName,
        render: (c) => c.resourcedetails?.failoverClusterName ?? "—" },
      { key: "zonename", label: "Zone" }, { key: "podname", label: "Pod" },
      { key: "hypervisortype", label: "Hypervisor", render: (c) => hypervisorLabel(c.hypervisortype) }, { key: "clustertype", label: "Cluster Type" },
      { key: "allocationstate", label: "Allocation State", render: (c) => badge(c.allocationstate) },
    ],
  });
}

function usage(used, total, show) {
  return `${show(used)} / ${show(total)} (${percent(used, total).toFixed(0)}%)`;
}

async function maintenance(host, entering) {
  const verb = entering ? "Enable maintenance" : "Cancel maintenance";
  const message = entering
    ? `Drain ${host.name} through the failover cluster: its roles move away (live migration for High and Medium priority, quick for Low), then the host is in Maintenance.`
    : `Resume ${host.name} in the failover cluster and take it out of maintenance.`;
  if (!await confirmAction(verb, message, { submitLabel: verb, danger: entering })) return;
  await trackJob(`${verb}: ${host.name}`, () => call(entering ? "prepareHostForMaintenance" : "cancelHostMaintenance", { id: host.id }));
}

export async function mountHosts(main) {
  let table;
  const actions = (host) => {
    const entering = host.resourcestate === "Enabled";
    const leaving = ["PrepareForMaintenance", "Maintenance", "ErrorInMaintenance"].includes(host.resourcestate);
    if (!entering && !leaving) return [];
    const text = entering ? "Enable maintenance" : "Cancel maintenance";
    return [actionButton(text, `${text} on ${host.name}`, () => maintenance(host, entering), () => table.reload())];
  };
  table = new DataTable({
    label: "Hosts", rowActions: actions,
    columns: [
      { key: "name", label: "Name", render: (host) => link(`/client/hosts/${host.id}`, host.name) },
      { key: "state", label: "State", render: (host) => badge(host.state) },
      { key: "resourcestate", label: "Resource State", render: (host) => badge(host.resourcestate) },
      { key: "clustername", label: "Cluster", render: (host) => link(`/client/clusters/${host.clusterid}/nodes`, host.clustername) },
      { key: "podname", label: "Pod" }, { key: "zonename", label: "Zone" },
      { key: "cpu", label: "CPU", value: (host) => host.cpuallocatedvalue,
        render: (host) => `${host.cpunumber} × ${host.cpuspeed} MHz, ${host.cpuallocated} allocated` },
      { key: "memory", label: "Memory", value: (host) => host.memoryallocated,
        render: (host) => usage(host.memoryallocated, host.memorytotal, bytes) },
      { key: "hypervisor", label: "Hypervisor", render: (host) => hypervisorLabel(host.hypervisor) },
    ],
    load: ({ page, pagesize, keyword }) => list("listHosts", "host", { page, pagesize, keyword, type: "Routing" }),
  });
  main.append(pageHead({ title: "Hosts", crumbs: CRUMBS }), table.element);
  await table.reload();
  return { refresh: () => table.reload(), topics: (t) => t === "hosts" || t === "jobs" };
}

export function mountStorage(main) {
  return listPage(main, {
    title: "Primary Storage", label: "Primary Storage", command: "listStoragePools", key: "storagepool",
    topics: (t) => t === "storage",
    tools: [link("/client/storage/add", "+ Add Primary Storage", { class: "button primary" })],
    columns: [
      { key: "name", label: "Name" }, { key: "state", label: "State", render: (p) => badge(p.state) },
      { key: "scope", label: "Scope" }, { key: "type", label: "Protocol" }, { key: "path", label: "Path" },
      { key: "clustername", label: "Cluster", render: (p) => p.clustername ?? "—" }, { key: "zonename", label: "Zone" },
      { key: "disksizeused", label: "Used", render: (p) => usage(p.disksizeused, p.disksizetotal, bytes) },
      { key: "disksizeallocated", label: "Allocated", render: (p) => bytes(p.disksizeallocated) },
    ],
  });
}
