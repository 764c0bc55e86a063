// Log in with CloudStack's `login` (username, password, domain); the session key then signs every call.

import { login, session } from "../api.js";
import { field, formValues } from "../dialog.js";
import { h } from "../dom.js";
import { connect } from "../live.js";

// CloudStack takes a domain path: "/" for ROOT, "/Sales" for a child of ROOT.
function domainPath(text) {
  const value = text.trim();
  if (!value || value.toUpperCase() === "ROOT" || value === "/") return "/";
  const path = value.replace(/^ROOT\//i, "");
  return path.startsWith("/") ? path : `/${path}`;
}

export async function mountLogin(main, { query, navigate }) {
  if (session.get()) {
    navigate("/client/", { replace: true });
    return {};
  }
  const error = h("div", { class: "form-error", role: "alert", id: "login-error" });
  const submit = h("button", { type: "submit", class: "primary" }, "Log in");
  const form = h("form", { class: "panel login", "aria-labelledby": "login-title", novalidate: true },
    h("h1", { id: "login-title", tabindex: "-1" }, "Log in to clusterstack"),
    error,
    field("Username", "username", { required: true, autocomplete: "username" }),
    field("Password", "password", { kind: "password", required: true, autocomplete: "current-password" }),
    field("Domain", "domain", { hint: "Optional: the domain path, e.g. /Sales. Leave empty for ROOT." }),
    h("div", { class: "form-actions" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const missing = ["username", "password"].filter((name) => !values[name]);
    if (missing.length) {
      error.textContent = `Enter your ${missing.join(" and ")}.`;
      form.elements[missing[0]].focus();
      return;
    }
    error.textContent = "";
    submit.disabled = true;
    try {
      await login(values.username, values.password, domainPath(values.domain));
      connect();
      const next = query.get("next");
      navigate(next && next.startsWith("/client/") && !next.startsWith("/client/login") ? next : "/client/",
        { replace: true });
    } catch (failure) {
      error.textContent = failure.code === 401 || failure.code === 531
        ? "The username, password or domain is not right." : failure.message;
      submit.disabled = false;
      form.elements.password.select();
    }
  });
  main.append(form);
  form.elements.username.focus();
  return {};
}
