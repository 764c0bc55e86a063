// One host: its details, the failover cluster node it is (status, votes, and why it is down when it is), and the
// instances running on it. Host names elsewhere in the console (nodes, owner nodes, events) link here.

import { call, list, listAll } from "../api.js";
import { confirmAction } from "../dialog.js";
import { h, link, pageHead } from "../dom.js";
import { nodeInformation } from "../explain.js";
import { badge, bytes, percent } from "../format.js";
import { hypervisorLabel } from "../hypervisor.js";
import { actionButton, trackJob } from "../jobs.js";
import { DataTable, localLoader } from "../table.js";

function usage(used, total, show) {
  return `${show(used)} of ${show(total)} (${percent(used, total).toFixed(0)}%)`;
}

function details(host, node) {
  const rows = [
    ["Name", host.name], ["State", badge(host.state)], ["Resource State", badge(host.resourcestate)],
    ["Cluster", link(`/client/clusters/${host.clusterid}/nodes`, host.clustername)],
    ["Pod", host.podname], ["Zone", host.zonename], ["IP Address", host.ipaddress],
    ["Hypervisor", hypervisorLabel(host.hypervisor)],
    ["CPU", `${host.cpunumber} × ${host.cpuspeed} MHz, ${host.cpuallocated} allocated`],
    ["Memory allocated", usage(host.memoryallocated, host.memorytotal, bytes)],
    ["Failover cluster node", node ? [badge(node.status), " ", `${node.name} · vote ${node.currentvote} of ${node.assignedvote}`] : "—"],
  ];
  return h("dl", { class: "details" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "—")]));
}

async function maintenance(host, entering) {
  const verb = entering ? "Enable maintenance" : "Cancel maintenance";
  const message = entering
    ? `Drain ${host.name} through the failover cluster: its roles move away, then the host is in Maintenance.`
    : `Resume ${host.name} in the failover cluster and take it out of maintenance.`;
  if (!await confirmAction(verb, message, { submitLabel: verb, danger: entering })) return;
  await trackJob(`${verb}: ${host.name}`, () => call(entering ? "prepareHostForMaintenance" : "cancelHostMaintenance", { id: host.id }));
}

export async function mountHost(main, { params }) {
  const head = h("div");
  const actions = h("div", { class: "action-bar" });
  const why = h("div");
  const info = h("div", { class: "panel" });
  let host = null;
  const instances = new DataTable({
    label: "Instances on this host", searchable: false, pagesize: 20,
    columns: [
      { key: "name", label: "Name", render: (vm) => link(`/client/instances/${vm.id}`, vm.name) },
      { key: "instancename", label: "Internal name" },
      { key: "state", label: "State", render: (vm) => badge(vm.state) },
      { key: "memory", label: "Memory", render: (vm) => `${vm.memory} MB` },
      { key: "haenable", label: "HA", render: (vm) => (vm.haenable ? "Yes" : "No") },
    ],
    load: localLoader(() => host ? listAll("listVirtualMachines", "virtualmachine", { hostid: host.id, listall: true }) : [], ["name"]),
    empty: "No instances on this host.",
  });

  async function refresh() {
    host = (await list("listHosts", "host", { id: params.id })).items[0] ?? null;
    if (!host) {
      head.replaceChildren(pageHead({ title: "Host not found", crumbs: [["/client/hosts", "Hosts"]] }));
      return;
    }
    document.title = `${host.name} · clusterstack`;
    let node = null;
    if (host.clusterid && host.name) {
      try {
        node = (await list("listFailoverClusterNodes", "failoverclusternode", { clusterid: host.clusterid, name: host.name })).items[0] ?? null;
      } catch {
        node = null; // the failover cluster does not answer: the host's own state says so
      }
    }
    const headingHadFocus = document.activeElement?.tagName === "H1";
    head.replaceChildren(pageHead({ title: host.name,
      crumbs: [["/client/", "Home"], ["/client/infrastructure", "Infrastructure"], ["/client/hosts", "Hosts"]],
      subtitle: `Host of cluster ${host.clustername} · ${host.zonename} / ${host.podname}` }));
    if (headingHadFocus) head.querySelector("h1").focus({ preventScroll: true });
    const explained = node ? nodeInformation(node) : "";
    why.replaceChildren(explained ? h("p", { class: `notice${node.status === "Quarantined" ? " bad" : ""}`, role: "note" }, explained) : "");
    const entering = host.resourcestate === "Enabled";
    const leaving = ["PrepareForMaintenance", "Maintenance", "ErrorInMaintenance"].includes(host.resourcestate);
    const text = entering ? "Enable maintenance" : "Cancel maintenance";
    actions.replaceChildren(...(entering || leaving
      ? [actionButton(text, `${text} on ${host.name}`, () => maintenance(host, entering), refresh)] : []),
    link(`/client/clusters/${host.clusterid}/nodes`, "Nodes of the failover cluster", { class: "button" }));
    info.replaceChildren(h("h2", {}, "Details"), details(host, node));
    await instances.reload();
  }

  main.append(head, why, actions, info, h("h2", {}, "Instances"), instances.element);
  await refresh();
  return { refresh, topics: (topic) => ["hosts", "vms", "jobs"].includes(topic) || topic.startsWith("failovercluster") };
}
