// Instances: the seed's columns (Name, Internal name, Display Name, Zone Name, State) plus Host and HA.

import { list } from "../api.js";
import { h, link, pageHead } from "../dom.js";
import { badge, yesNo } from "../format.js";
import { DataTable } from "../table.js";
import { instanceActions } from "./instance_actions.js";

export const VM_TOPICS = (topic) => topic === "vms" || topic === "jobs";

export async function mountInstances(main, { admin, query }) {
  const state = query.get("state") ?? "";
  const filter = h("select", { "aria-label": "Filter by state" },
    ["", "Running", "Stopped", "Starting", "Stopping", "Migrating", "Error", "Destroyed"].map((value) =>
      h("option", { value, selected: value === state }, value ? value : "All")));
  const table = new DataTable({
    label: "Instances",
    columns: [
      { key: "name", label: "Name", render: (vm) => link(`/client/instances/${vm.id}`, vm.name) },
      { key: "instancename", label: "Internal name" },
      { key: "displayname", label: "Display Name" },
      { key: "zonename", label: "Zone Name" },
      { key: "state", label: "State", render: (vm) => badge(vm.state) },
      { key: "hostname", label: "Host", render: (vm) => vm.hostname ?? "—" },
      { key: "haenable", label: "HA", render: (vm) => yesNo(vm.haenable), value: (vm) => yesNo(vm.haenable) },
    ],
    load: ({ page, pagesize, keyword }) => list("listVirtualMachines", "virtualmachine",
      { listall: true, page, pagesize, keyword, state: filter.value || undefined }),
    rowActions: (vm) => instanceActions(vm, { admin, onChanged: () => table.reload() }),
    tools: [h("label", { class: "check" }, "Filter by ", filter), link("/client/instances/add", "+ Add Instance", { class: "button primary" })],
    empty: "No instances. Add one with + Add Instance.",
  });
  filter.addEventListener("change", () => {
    table.page = 1;
    const url = new URL(location.href);
    if (filter.value) url.searchParams.set("state", filter.value);
    else url.searchParams.delete("state");
    history.replaceState({}, "", url);
    table.reload();
  });
  main.append(pageHead({ title: "Instances", crumbs: [["/client/", "Home"]] }), table.element);
  await table.reload();
  return { refresh: () => table.reload(), topics: VM_TOPICS };
}
