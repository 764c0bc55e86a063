// Building DOM nodes without innerHTML: text is always text, never markup.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked" || key === "selected") el[key] = Boolean(value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function link(href, text, props = {}) {
  return h("a", { href, ...props }, text);
}

// A page header: breadcrumb links, the title (focused after navigation) and optional actions.
export function pageHead({ title, crumbs = [], subtitle, actions = [] }) {
  const crumbNav = crumbs.length
    ? h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" },
      crumbs.map(([href, text], i) => [i ? " › " : "", link(href, text)]))
    : null;
  return h("div", { class: "page-head" },
    h("div", {}, crumbNav, h("h1", { tabindex: "-1" }, title), subtitle ? h("p", { class: "subtitle" }, subtitle) : null),
    actions.length ? h("div", { class: "table-tools" }, actions) : null);
}
