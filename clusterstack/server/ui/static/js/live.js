// The live channel: server-sent events from /client/live tell which topics changed; views refetch what they show.
// A lost connection is shown in the top bar and re-established; while it is down, views poll instead.

import { session, wakeJob } from "./api.js";

const listeners = new Set();
const statusListeners = new Set();
const sessionEndListeners = new Set();
let source = null;
let retryTimer = null;
let state = "offline";

const LABELS = { live: "Live", reconnecting: "Reconnecting…", offline: "Offline" };

function setState(next) {
  if (next === state) return;
  state = next;
  const el = document.getElementById("live-status");
  if (el) {
    el.hidden = false;
    el.dataset.state = next;
    el.textContent = LABELS[next];
    el.title = next === "live" ? "Changes appear as they happen" : "Changes appear when the connection is back";
  }
  for (const listener of statusListeners) listener(next);
}

export function liveState() {
  return state;
}

export function onLiveState(listener) {
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}

// listener() when the server says the session is over.
export function onSessionEnd(listener) {
  sessionEndListeners.add(listener);
}

// listener({topics: [...], jobs: [...]}) on every change; returns the unsubscribe function.
export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function connect() {
  disconnect();
  const current = session.get();
  if (!current) return;
  const url = `/client/live?sessionkey=${encodeURIComponent(current.sessionkey)}`;
  source = new EventSource(url);
  source.addEventListener("hello", () => setState("live"));
  source.addEventListener("change", (event) => {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    for (const jobid of data.jobs ?? []) wakeJob(jobid);
    for (const listener of listeners) listener(data);
  });
  source.addEventListener("goodbye", (event) => {
    // The server is stopping (it comes back: the browser reconnects) or the session ended (log in again).
    let reason = "shutdown";
    try {
      reason = JSON.parse(event.data).reason ?? reason;
    } catch {
      // keep the default
    }
    setState("reconnecting");
    if (reason === "session") {
      disconnect();
      for (const listener of sessionEndListeners) listener();
    }
  });
  source.addEventListener("open", () => {
    if (state !== "live") setState("reconnecting");
  });
  source.onerror = () => {
    // The browser retries by itself while the stream is CONNECTING; once CLOSED (the server refused it,
    // e.g. it restarted and the page is stale), retry ourselves.
    setState("reconnecting");
    if (source && source.readyState === EventSource.CLOSED) {
      clearTimeout(retryTimer);
      retryTimer = setTimeout(connect, 3000);
    }
  };
}

export function disconnect() {
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  const el = document.getElementById("live-status");
  if (el) el.hidden = true;
  state = "offline";
}
