// The console's shell: who is logged in, the navigation, the router, and live refresh of the current view.

import { logout, onUnauthorized, session } from "./api.js";
import { h, link } from "./dom.js";
import { connect, disconnect, liveState, onChange, onLiveState, onSessionEnd } from "./live.js";
import { ROUTES } from "./routes.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let current = null;
let refreshTimer = null;
let pollTimer = null;

const NAV = [
  ["/client/", "Dashboard", false],
  ["/client/instances", "Instances", false],
  ["/client/infrastructure", "Infrastructure", true],
  ["/client/offerings", "Service Offerings", true],
  ["/client/events", "Events", false],
  ["/client/alerts", "Alerts", true],
];

function match(path) {
  for (const route of ROUTES) {
    const found = route.pattern.exec(path);
    if (found) return { route, params: found.groups ?? {} };
  }
  return null;
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState({}, "", path);
  else history.pushState({}, "", path);
  render();
}

function drawChrome() {
  const who = session.get();
  const admin = session.isAdmin();
  nav.hidden = !who;
  document.querySelector(".nav-toggle").hidden = !who;
  document.getElementById("logout").hidden = !who;
  document.getElementById("whoami").textContent = who ? `${who.username} (${who.account})` : "";
  const path = location.pathname;
  nav.replaceChildren(...NAV.filter(([, , adminOnly]) => admin || !adminOnly).map(([href, text]) => {
    const active = href === "/client/" ? path === "/client/" : path.startsWith(href) ||
      (href === "/client/infrastructure" && /^\/client\/(zones|pods|clusters|hosts|storage)/.test(path));
    return link(href, text, { "aria-current": active ? "page" : null });
  }));
}

function stopView() {
  clearTimeout(refreshTimer);
  clearInterval(pollTimer);
  if (current?.dispose) current.dispose();
  current = null;
}

async function render() {
  stopView();
  const path = location.pathname.replace(/\/+$/, "") || "/client";
  const loggedIn = Boolean(session.get());
  const found = match(path === "/client" ? "/client/" : path);
  if (!loggedIn && found?.route.name !== "login") {
    const back = location.pathname + location.search;
    history.replaceState({}, "", `/client/login${back.startsWith("/client/login") ? "" : `?next=${encodeURIComponent(back)}`}`);
    return render();
  }
  drawChrome();
  main.replaceChildren();
  if (!found) {
    main.append(h("h1", { tabindex: "-1" }, "Not found"), h("p", {}, "No page here. ", link("/client/", "Go to the dashboard")));
    return;
  }
  if (found.route.admin && !session.isAdmin()) {
    main.append(h("h1", { tabindex: "-1" }, "Not allowed"), h("p", {}, "This page is for administrators."));
    return;
  }
  document.title = `${found.route.title} · clusterstack`;
  const context = { params: found.params, query: new URLSearchParams(location.search), navigate,
    admin: session.isAdmin(), session: session.get() };
  try {
    const view = await found.route.view(main, context);
    current = view ?? {};
  } catch (error) {
    main.append(h("div", { class: "form-error", role: "alert" }, error.message));
    current = {};
  }
  const heading = main.querySelector("h1");
  if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
  schedulePolling();
}

// While the live channel is down, views poll every 5 seconds so the screen never goes stale.
function schedulePolling() {
  clearInterval(pollTimer);
  if (current?.refresh && liveState() !== "live") pollTimer = setInterval(() => current?.refresh?.(), 5000);
}

onLiveState((state) => {
  schedulePolling();
  if (state === "live" && current?.refresh) current.refresh();
});

onChange((change) => {
  if (!current?.refresh || !current.topics) return;
  if (!(change.topics ?? []).some((topic) => current.topics(topic))) return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => current?.refresh?.(), 150);
});

function sessionOver() {
  session.clear();
  disconnect();
  if (!location.pathname.startsWith("/client/login")) navigate("/client/login", { replace: true });
}
onUnauthorized(sessionOver);
onSessionEnd(sessionOver);

document.addEventListener("click", (event) => {
  const anchor = event.target.closest("a[href]");
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey
    || anchor.target === "_blank") return;
  const url = new URL(anchor.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith("/client") || url.pathname.startsWith("/client/api")
    || url.pathname.startsWith("/client/static")) return;
  if (anchor.getAttribute("href").startsWith("#")) return;
  event.preventDefault();
  nav.classList.add("collapsed");
  document.querySelector(".nav-toggle").setAttribute("aria-expanded", "false");
  navigate(url.pathname + url.search);
});

document.querySelector(".nav-toggle").addEventListener("click", (event) => {
  const open = nav.classList.toggle("collapsed") === false;
  event.currentTarget.setAttribute("aria-expanded", String(open));
});
nav.classList.add("collapsed");

document.getElementById("logout").addEventListener("click", async () => {
  stopView(); // no refresh of the page being left once the session is gone
  disconnect();
  try {
    await logout();
  } catch {
    // The session is gone either way.
  }
  navigate("/client/login", { replace: true });
});

window.addEventListener("popstate", render);
if (session.get()) connect();
render();
