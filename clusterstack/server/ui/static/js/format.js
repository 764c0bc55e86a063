// How values read on screen: states as coloured badges, sizes as Windows and CloudStack show them.

const OK = new Set(["up", "running", "online", "enabled", "ready", "completed", "reachable", "normal",
  "allocated", "active", "yes", "succeeded", "implemented"]);
const BAD = new Set(["down", "failed", "error", "errorinmaintenance", "destroyed", "lost", "unreachable",
  "expunging", "offline", "quorumlost", "noquorum", "disconnected", "critical"]);
const WARN = new Set(["alert", "prepareformaintenance", "paused", "pending", "starting", "stopping", "migrating",
  "connecting", "joining", "rebooting", "partialonline", "onlinepending", "offlinepending", "warn", "warning",
  "draining", "creating", "inprogress"]);

export function stateClass(state) {
  const key = String(state ?? "").toLowerCase().replace(/[\s_-]/g, "");
  if (OK.has(key)) return "ok";
  if (BAD.has(key)) return "bad";
  if (WARN.has(key)) return "warn";
  return "idle";
}

export function badge(state) {
  const span = document.createElement("span");
  span.className = `status ${stateClass(state)}`;
  span.textContent = state ?? "—";
  return span;
}

const GB = 1024 ** 3;

// Windows' way: binary units written "GB"; whole numbers without a decimal ("100 GB", "91.2 GB").
export function bytes(value) {
  const n = Number(value);
  if (!Number.isFinite(n)) return "—";
  const units = [["TB", 1024 ** 4], ["GB", GB], ["MB", 1024 ** 2], ["KB", 1024]];
  for (const [unit, size] of units) {
    if (Math.abs(n) >= size) return `${trim(n / size)} ${unit}`;
  }
  return `${n} B`;
}

export function gigabytes(value) {
  return `${trim(Number(value) / GB)} GB`;
}

function trim(n) {
  const fixed = n.toFixed(1);
  return fixed.endsWith(".0") ? fixed.slice(0, -2) : fixed;
}

export function megabytes(mb) {
  return bytes(Number(mb) * 1024 * 1024);
}

// CloudStack's dates ("2026-11-25T12:24:06+0000") as local date and time.
export function parseDate(text) {
  if (!text) return null;
  const iso = String(text).replace(/([+-]\d\d)(\d\d)$/, "$1:$2");
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function dateTime(text) {
  const date = parseDate(text);
  if (!date) return text ? String(text) : "—";
  return date.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit",
    minute: "2-digit", second: "2-digit" });
}

export function timeElement(text) {
  const el = document.createElement("time");
  const date = parseDate(text);
  if (date) el.dateTime = date.toISOString();
  el.textContent = dateTime(text);
  return el;
}

export function percent(used, total) {
  const t = Number(total);
  if (!t) return 0;
  return Math.max(0, Math.min(100, (Number(used) / t) * 100));
}

export function yesNo(value) {
  return value === true || value === "true" ? "Yes" : "No";
}
