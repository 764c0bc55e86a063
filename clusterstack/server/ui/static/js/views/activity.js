// Events and alerts, with filters: what the cloud did and what needs an operator's eye.

import { list } from "../api.js";
import { h, pageHead } from "../dom.js";
import { badge, timeElement } from "../format.js";
import { DataTable } from "../table.js";

function select(label, values) {
  return h("select", { "aria-label": label }, values.map(([value, text]) => h("option", { value }, text)));
}

export async function mountEvents(main) {
  const level = select("Level", [["", "All levels"], ["INFO", "INFO"], ["WARN", "WARN"], ["ERROR", "ERROR"]]);
  const type = h("input", { type: "text", placeholder: "Type, e.g. VM.MIGRATE", "aria-label": "Event type" });
  const table = new DataTable({
    label: "Events", pagesize: 25,
    columns: [
      { key: "level", label: "Level", render: (e) => badge(e.level) },
      { key: "type", label: "Type" },
      { key: "description", label: "Description", wrap: true },
      { key: "resourcename", label: "Resource", render: (e) => e.resourcename ?? "—" },
      { key: "account", label: "Account" },
      { key: "created", label: "Date", render: (e) => timeElement(e.created) },
    ],
    load: ({ page, pagesize, keyword }) => list("listEvents", "event",
      { listall: true, page, pagesize, keyword, level: level.value, type: type.value.trim().toUpperCase() }),
    tools: [level, type],
    empty: "No events match.",
  });
  level.addEventListener("change", () => { table.page = 1; table.reload(); });
  type.addEventListener("change", () => { table.page = 1; table.reload(); });
  main.append(pageHead({ title: "Events", crumbs: [["/client/", "Home"]] }), table.element);
  await table.reload();
  return { refresh: () => table.reload(), topics: (topic) => topic === "events" };
}

export async function mountAlerts(main) {
  const type = h("input", { type: "text", placeholder: "Type, e.g. ALERT.HOST or 7", "aria-label": "Alert type" });
  const table = new DataTable({
    label: "Alerts", pagesize: 25,
    columns: [
      { key: "name", label: "Type", render: (a) => a.name ?? String(a.type) },
      { key: "description", label: "Description", wrap: true },
      { key: "sent", label: "Sent", render: (a) => timeElement(a.sent) },
    ],
    load: ({ page, pagesize, keyword }) => list("listAlerts", "alert", { page, pagesize, keyword, type: type.value.trim() }),
    tools: [type],
    empty: "No alerts.",
  });
  type.addEventListener("change", () => { table.page = 1; table.reload(); });
  main.append(pageHead({ title: "Alerts", crumbs: [["/client/", "Home"]] }), table.element);
  await table.reload();
  return { refresh: () => table.reload(), topics: (topic) => topic === "alerts" };
}
