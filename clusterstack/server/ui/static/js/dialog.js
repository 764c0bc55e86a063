// Modal dialogs: confirmations and small forms. Errors from the API stay in the dialog, next to the fields.

import { h } from "./dom.js";

// fields: nodes inside the form; submit(form) may throw an ApiError whose message is shown.
// Resolves with submit's result, or null when cancelled.
export function openDialog({ title, fields = [], message = null, submitLabel = "OK", danger = false, submit }) {
  return new Promise((resolve) => {
    const error = h("div", { class: "form-error", role: "alert" });
    const ok = h("button", { type: "submit", class: danger ? "danger" : "primary" }, submitLabel);
    const cancel = h("button", { type: "button" }, "Cancel");
    const heading = h("h2", { id: `dialog-${Date.now()}` }, title);
    const form = h("form", { method: "dialog", novalidate: true },
      heading, message ? h("p", {}, message) : null, error, fields, h("div", { class: "form-actions" }, cancel, ok));
    const dialog = h("dialog", { "aria-labelledby": heading.id }, form);
    let settled = false;
    const finish = (value) => {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    cancel.addEventListener("click", () => finish(null));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      error.textContent = "";
      ok.disabled = true;
      try {
        finish(submit ? await submit(form) : true);
      } catch (failure) {
        error.textContent = failure.message;
        ok.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = form.querySelector("input, select, textarea");
    (first ?? ok).focus();
  });
}

export function confirmAction(title, message, { submitLabel = "OK", danger = false, fields = [] } = {}) {
  return openDialog({ title, message, submitLabel, danger, fields, submit: (form) => new FormData(form) });
}

let fieldCounter = 0;

// A labelled field. kind: text | password | number | select | checkbox | textarea.
export function field(label, name, { kind = "text", value = "", options = [], required = false, hint = null,
  min, max, placeholder, autocomplete } = {}) {
  const id = `f-${name}-${++fieldCounter}`;
  const hintId = hint ? `${id}-hint` : null;
  if (kind === "checkbox") {
    return h("div", { class: "field" },
      h("label", { class: "check", for: id },
        h("input", { type: "checkbox", id, name, checked: Boolean(value), "aria-describedby": hintId }), label),
      hint ? h("span", { class: "hint", id: hintId }, hint) : null);
  }
  let control;
  if (kind === "select") {
    control = h("select", { id, name, required, "aria-describedby": hintId },
      options.map((option) => {
        const [optionValue, optionLabel] = Array.isArray(option) ? option : [option, option];
        return h("option", { value: optionValue, selected: String(optionValue) === String(value) }, optionLabel);
      }));
  } else if (kind === "textarea") {
    control = h("textarea", { id, name, required, rows: 3, "aria-describedby": hintId }, value);
  } else {
    control = h("input", { type: kind, id, name, value, required, min, max, placeholder, autocomplete,
      "aria-describedby": hintId });
  }
  return h("div", { class: "field" },
    h("label", { for: id, class: required ? "required" : null }, label), control,
    hint ? h("span", { class: "hint", id: hintId }, hint) : null);
}

export function formValues(form) {
  const values = {};
  for (const element of form.elements) {
    if (!element.name) continue;
    values[element.name] = element.type === "checkbox" ? element.checked : element.value.trim();
  }
  return values;
}
