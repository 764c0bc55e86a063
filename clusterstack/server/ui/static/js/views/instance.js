// One instance: details, actions, volumes, and the timeline that merges the cloud's events with the
// failover cluster's events for its role (role moved, 1069/1135 around it, live migration received).

import { call, list, listAll } from "../api.js";
import { field, formValues, openDialog } from "../dialog.js";
import { h, link, pageHead } from "../dom.js";
import { isThresholdExceeded, thresholdExplanation } from "../explain.js";
import { badge, bytes, parseDate, timeElement, yesNo } from "../format.js";
import { DataTable, localLoader } from "../table.js";
import { instanceActions } from "./instance_actions.js";

const AROUND_MS = 120_000;

function clusterEntry(event) {
  return { when: event.created, source: `Failover cluster${event.node ? ` · ${event.node}` : ""}`, kind: "cluster",
    title: `Event ${event.eventid}${event.source ? ` · ${event.source}` : ""}`, level: event.level,
    message: event.message };
}

// The role's own events, and around them the cluster's warnings and errors about the nodes it ran on
// (1135 node removed, 1177 quorum lost...): the story of a failover in one place.
async function clusterEntries(vm) {
  const [own, serious] = await Promise.all([
    list("listFailoverClusterEvents", "failoverclusterevent", { clusterid: vm.clusterid, virtualmachineid: vm.id, pagesize: 200 }),
    list("listFailoverClusterEvents", "failoverclusterevent", { clusterid: vm.clusterid, pagesize: 200 }),
  ]);
  const times = own.items.map((event) => parseDate(event.created)?.getTime()).filter(Number.isFinite);
  const nodes = new Set(own.items.map((event) => event.node).filter(Boolean));
  for (const event of own.items) {
    for (const found of String(event.message).matchAll(/node '([^']+)'/g)) nodes.add(found[1]);
  }
  const near = (event) => {
    const at = parseDate(event.created)?.getTime();
    return Number.isFinite(at) && times.some((t) => Math.abs(t - at) <= AROUND_MS);
  };
  const mentionsNode = (event) => nodes.has(event.node) || [...nodes].some((node) => String(event.message).includes(node));
  const context = serious.items.filter((event) => !event.role && !["Information", "Verbose"].includes(event.level)
    && near(event) && mentionsNode(event));
  return [...own.items, ...context].map(clusterEntry);
}

async function timelineEntries(vm, admin) {
  const cloud = (await list("listEvents", "event", { listall: true, resourceid: vm.id, resourcetype: "VirtualMachine", pagesize: 200 })).items
    .map((event) => ({ when: event.created, source: "CloudStack", kind: "cloud", title: event.type,
      level: event.level, message: event.description, by: event.username }));
  let cluster = [];
  let note = null;
  if (admin && vm.clusterid) {
    try {
      cluster = await clusterEntries(vm);
    } catch (error) {
      note = `The failover cluster's events could not be read: ${error.message}`;
    }
  }
  const entries = [...cloud, ...cluster];
  // Newest first; within the same second the cloud's entry is the newer one (it follows what the cluster did).
  const rank = (entry) => (entry.kind === "cloud" ? 1 : 0);
  entries.sort((a, b) => (parseDate(b.when)?.getTime() ?? 0) - (parseDate(a.when)?.getTime() ?? 0) || rank(b) - rank(a));
  return { entries, note };
}

function drawTimeline({ entries, note }) {
  const items = entries.map((entry) => h("li", {
    class: `source-${entry.kind} level-${String(entry.level ?? "info").toLowerCase()}`,
  }, h("div", { class: "source" }, entry.source), h("strong", {}, entry.title), " ", timeElement(entry.when),
  h("div", {}, entry.message)));
  return [note ? h("p", { class: "notice" }, note) : null,
    items.length ? h("ol", { class: "timeline", "aria-label": "Timeline" }, items) : h("p", { class: "muted" }, "No events yet.")];
}

// An HA instance the failover cluster left down because its role exceeded the failover threshold (event 1254) says
// so at the top of its page. An admin's page asks the cluster (the role's Information); a user's page reads the
// instance's own latest start or stop event, which names the reason.
async function thresholdNotice(vm, admin, entries) {
  if (!["Stopped", "Error"].includes(vm.state)) return null;
  let exceeded = null;
  let role;
  let nodecount;
  if (admin && vm.clusterid && vm.instancename) {
    try {
      const [roles, clusters] = await Promise.all([
        list("listFailoverClusterRoles", "failoverclusterrole", { clusterid: vm.clusterid, name: vm.instancename }),
        list("listFailoverClusters", "failovercluster", { clusterid: vm.clusterid }),
      ]);
      nodecount = clusters.items[0]?.nodecount;
      [role] = roles.items;
      if (role) exceeded = isThresholdExceeded(role.information);
    } catch {
      exceeded = null; // the cluster does not answer: the events may still tell
    }
  }
  if (!exceeded) {
    // A driver that cannot read the role's Information (WinRM today) still leaves the reason in the instance's
    // latest start or stop event.
    const last = entries.find((entry) => entry.kind === "cloud" && /^VM\.(START|STOP)$/.test(entry.title));
    exceeded = isThresholdExceeded(last?.message);
  }
  return exceeded ? h("p", { class: "notice bad", role: "note", "aria-label": "Why it is down" },
    thresholdExplanation(role, nodecount).replace("the role stays down", "the instance stays down")) : null;
}

function details(vm, admin) {
  const rows = [
    ["Name", vm.name], ["Internal name", vm.instancename], ["Display Name", vm.displayname],
    ["State", badge(vm.state)], ["Host", admin && vm.hostid ? link(`/client/hosts/${vm.hostid}`, vm.hostname) : (vm.hostname ?? "—")],
    ["Cluster", admin && vm.clusterid
      ? link(`/client/clusters/${vm.clusterid}/roles`, vm.clustername) : (vm.clustername ?? "—")],
    ["Zone Name", vm.zonename], ["Service offering", vm.serviceofferingname],
    ["CPU", `${vm.cpunumber} × ${vm.cpuspeed} MHz`], ["Memory", `${vm.memory} MB`], ["HA", yesNo(vm.haenable)],
    ["Template", vm.templatename], ["Account", vm.account], ["Created", timeElement(vm.created)],
  ];
  return h("dl", { class: "details" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "—")]));
}

async function edit(vm) {
  return openDialog({
    title: `Edit ${vm.name}`, submitLabel: "Save",
    fields: [
      field("Display Name", "displayname", { value: vm.displayname ?? "" }),
      field("HA", "haenable", { kind: "checkbox", value: vm.haenable,
        hint: "On: the failover cluster restarts it elsewhere when its node fails (role priority Medium); off: No Auto Start." }),
    ],
    submit: async (form) => {
      const values = formValues(form);
      return call("updateVirtualMachine", { id: vm.id, displayname: values.displayname, haenable: values.haenable });
    },
  });
}

export async function mountInstance(main, { params, admin }) {
  const head = h("div");
  const why = h("div");
  const actions = h("div", { class: "action-bar" });
  const info = h("div", { class: "panel" });
  const timeline = h("div", { class: "panel" });
  let vm = null;
  const volumes = new DataTable({
    label: "Volumes", searchable: false, pagesize: 10,
    columns: [
      { key: "name", label: "Name" }, { key: "type", label: "Type" },
      { key: "size", label: "Size", render: (v) => bytes(v.size), value: (v) => v.size },
      { key: "state", label: "State", render: (v) => badge(v.state) }, { key: "storage", label: "Storage" },
      { key: "path", label: "Path" },
    ],
    load: localLoader(() => vm ? listAll("listVolumes", "volume", { virtualmachineid: vm.id, listall: true }) : [], ["name"]),
    empty: "No volumes.",
  });

  async function refresh() {
    const found = (await list("listVirtualMachines", "virtualmachine", { id: params.id, listall: true })).items[0];
    if (!found) {
      head.replaceChildren(pageHead({ title: "Instance not found", crumbs: [["/client/instances", "Instances"]] }));
      actions.replaceChildren();
      return;
    }
    vm = found;
    document.title = `${vm.name} · clusterstack`;
    const headingHadFocus = document.activeElement?.tagName === "H1";
    head.replaceChildren(pageHead({ title: vm.name, crumbs: [["/client/", "Home"], ["/client/instances", "Instances"]],
      subtitle: `${vm.instancename} on ${vm.hostname ?? "no host"}` }));
    if (headingHadFocus) head.querySelector("h1").focus({ preventScroll: true });
    const editButton = h("button", { type: "button", class: "small" }, "Edit");
    editButton.addEventListener("click", async () => {
      if (await edit(vm)) refresh();
    });
    actions.replaceChildren(...instanceActions(vm, { admin, onChanged: refresh }), editButton);
    info.replaceChildren(h("h2", {}, "Details"), details(vm, admin));
    const story = await timelineEntries(vm, admin);
    why.replaceChildren(await thresholdNotice(vm, admin, story.entries) ?? "");
    timeline.replaceChildren(h("h2", {}, "Timeline"), ...drawTimeline(story).filter(Boolean));
    await volumes.reload();
  }

  main.append(head, why, actions, h("div", { class: "grid" }, info, timeline), h("h2", {}, "Volumes"), volumes.element);
  await refresh();
  return {
    refresh,
    topics: (topic) => ["vms", "events", "jobs"].includes(topic) || topic.startsWith("failovercluster"),
  };
}
