// The dashboard: instances and hosts by state, clusters with their quorum, capacity bars, latest alerts and events.

import { list, listAll } from "../api.js";
import { h, link, pageHead } from "../dom.js";
import { badge, bytes, percent, timeElement } from "../format.js";

const VM_STATES = ["Running", "Stopped", "Starting", "Stopping", "Migrating", "Error"];
const CAPACITY = [["CPU", "CPU", (v) => `${(v / 1000).toFixed(1)} GHz`], ["MEMORY", "Memory", bytes],
  ["STORAGE", "Primary storage", bytes]];

function countsByState(items, key) {
  const counts = new Map();
  for (const item of items) counts.set(item[key], (counts.get(item[key]) ?? 0) + 1);
  return counts;
}

function stateList(counts, hrefFor) {
  if (!counts.size) return h("p", { class: "muted" }, "None.");
  return h("ul", { class: "stat-list" }, [...counts].map(([state, count]) =>
    h("li", {}, badge(state), hrefFor ? link(hrefFor(state), String(count), { "aria-label": `${count} ${state}` }) : String(count))));
}

function bar(used, total, text) {
  const share = percent(used, total);
  const fill = h("span");
  fill.style.width = `${share}%`;
  return h("div", { class: `bar${share >= 90 ? " full" : share >= 75 ? " high" : ""}`, role: "meter",
    "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(share), "aria-label": text }, fill);
}

async function instanceCard() {
  const counts = new Map();
  const answers = await Promise.all(VM_STATES.map((state) =>
    list("listVirtualMachines", "virtualmachine", { listall: true, state, pagesize: 1, page: 1 })));
  let total = 0;
  VM_STATES.forEach((state, index) => {
    if (answers[index].count) counts.set(state, answers[index].count);
    total += answers[index].count;
  });
  return h("section", { class: "panel", "aria-labelledby": "dash-instances" },
    h("h2", { id: "dash-instances" }, link("/client/instances", "Instances")), h("div", { class: "big-number" }, String(total)),
    stateList(counts, (state) => `/client/instances?state=${state}`));
}

async function hostCard() {
  const hosts = await listAll("listHosts", "host", { type: "Routing" });
  return h("section", { class: "panel", "aria-labelledby": "dash-hosts" },
    h("h2", { id: "dash-hosts" }, link("/client/hosts", "Hosts")), h("div", { class: "big-number" }, String(hosts.length)),
    stateList(countsByState(hosts, "state")));
}

// "Survives the loss of any 1 node: yes/no" and the HA roles at risk, from listClusters (computed by rehearsing
// each loss with the failover cluster's own rules); the roles named as their instances where the cluster knows.
async function survivalLine(fc, cluster) {
  if (!cluster || cluster.hasurvivesfailures === undefined) return null;
  const k = cluster.hafailurestolerated ?? 1;
  const survives = cluster.hasurvivesfailures === true;
  const line = h("p", { class: `risk ${survives ? "yes" : "no"}` },
    `Survives the loss of any ${k} node${k === 1 ? "" : "s"}: `, h("strong", {}, survives ? "yes" : "no"));
  const atRisk = cluster.harolesatrisk ?? [];
  if (!survives && atRisk.length) {
    let names = new Map();
    try {
      const roles = await listAll("listFailoverClusterRoles", "failoverclusterrole", { clusterid: fc.clusterid });
      names = new Map(roles.map((r) => [r.name, r]));
    } catch {
      // the roles' internal names still say which
    }
    line.append(" · at risk: ", ...atRisk.flatMap((name, i) => {
      const role = names.get(name);
      const text = role?.virtualmachinename ? `${role.virtualmachinename} (${name})` : name;
      return [i ? ", " : "", role?.virtualmachineid ? link(`/client/instances/${role.virtualmachineid}`, text) : text];
    }), " · ", link(`/client/clusters/${fc.clusterid}/nodes`, "what if a node fails?"));
  }
  return line;
}

async function clusterCard() {
  let rows;
  try {
    const [clusters, cloudClusters] = await Promise.all([listAll("listFailoverClusters", "failovercluster"),
      listAll("listClusters", "cluster")]);
    const byId = new Map(cloudClusters.map((c) => [c.id, c]));
    const lines = await Promise.all(clusters.map((c) => survivalLine(c, byId.get(c.clusterid)).catch(() => null)));
    rows = clusters.length ? h("ul", { class: "feed" }, clusters.map((c, i) => h("li", { "aria-label": c.clustername ?? c.name },
      link(`/client/clusters/${c.clusterid}/roles`, c.clustername ?? c.name), " ",
      badge(c.state === "Unreachable" ? "Unreachable" : c.quorumstate), " ",
      h("span", { class: "muted" }, `${c.votes ?? "?"} votes, ${c.votesneeded ?? "?"} needed · ${c.nodesup ?? "?"}/${c.nodecount ?? "?"} nodes up`),
      lines[i])))
      : h("p", { class: "muted" }, "No failover cluster added yet.");
  } catch (error) {
    rows = h("p", { class: "muted" }, error.message);
  }
  return h("section", { class: "panel", "aria-labelledby": "dash-clusters" },
    h("h2", { id: "dash-clusters" }, link("/client/clusters", "Failover clusters")), rows);
}

async function capacityCard() {
  const capacity = (await list("listCapacity", "capacity")).items;
  const rows = CAPACITY.map(([name, title, show]) => {
    const entries = capacity.filter((c) => c.name === name);
    const used = entries.reduce((sum, c) => sum + Number(c.capacityused ?? 0), 0);
    const total = entries.reduce((sum, c) => sum + Number(c.capacitytotal ?? 0), 0);
    const text = `${title}: ${show(used)} of ${show(total)} (${percent(used, total).toFixed(1)}%)`;
    return h("div", { class: "capacity" }, h("div", { class: "label" }, h("span", {}, title),
      h("span", { class: "muted" }, `${show(used)} of ${show(total)}`)), bar(used, total, text));
  });
  return h("section", { class: "panel", "aria-labelledby": "dash-capacity" }, h("h2", { id: "dash-capacity" }, "Capacity"), rows);
}

function feedCard(id, title, href, items, line) {
  return h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id }, link(href, title)),
    items.length ? h("ul", { class: "feed" }, items.map(line)) : h("p", { class: "muted" }, "Nothing yet."));
}

// A long alert (a failover cluster's own message can run to several lines) wraps inside its card, shows its first
// lines, and opens in full on a click.
function alertLine(alert) {
  return h("li", {}, h("details", {}, h("summary", { title: "Show the whole alert" },
    h("span", { class: "alert-text" }, alert.description))), timeElement(alert.sent));
}

export async function mountDashboard(main, { admin }) {
  // Whole rows: the admin's six cards three across, a user's two side by side.
  const body = h("div", { class: "dashboard", "aria-label": "Dashboard cards" });
  body.style.setProperty("--columns", admin ? "3" : "2");
  main.append(pageHead({ title: "Dashboard", subtitle: admin ? "The cloud and its failover clusters" : "Your instances" }), body);
  async function refresh() {
    const events = list("listEvents", "event", { listall: true, pagesize: 8, page: 1 });
    const cards = [instanceCard()];
    if (admin) {
      const alerts = list("listAlerts", "alert", { pagesize: 6, page: 1 });
      cards.push(hostCard(), clusterCard(), capacityCard(),
        alerts.then(({ items }) => feedCard("dash-alerts", "Latest alerts", "/client/alerts", items, alertLine)));
    }
    cards.push(events.then(({ items }) => feedCard("dash-events", "Latest events", "/client/events", items,
      (e) => h("li", {}, badge(e.level), " ", h("strong", {}, e.type), " ", e.description, h("div", {}, timeElement(e.created))))));
    body.replaceChildren(...await Promise.all(cards));
  }
  await refresh();
  return { refresh, topics: (topic) => topic !== "storage" };
}
