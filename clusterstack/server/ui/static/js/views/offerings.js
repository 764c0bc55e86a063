// Service offerings: the list and the add form with the seed's fields.

import { call, list } from "../api.js";
import { field, formValues } from "../dialog.js";
import { h, link, pageHead } from "../dom.js";
import { yesNo } from "../format.js";
import { DataTable } from "../table.js";

const CRUMBS = [["/client/", "Home"], ["/client/offerings", "Service Offerings"]];

export async function mountOfferings(main) {
  const table = new DataTable({
    label: "Service Offerings",
    columns: [
      { key: "name", label: "Name" }, { key: "displaytext", label: "Description", wrap: true },
      { key: "cpunumber", label: "CPU Cores" }, { key: "cpuspeed", label: "CPU (MHz)" },
      { key: "memory", label: "Memory (MB)" }, { key: "storagetype", label: "Storage Type" },
      { key: "provisioningtype", label: "Provisioning Type" },
      { key: "offerha", label: "Offer HA", render: (o) => yesNo(o.offerha), value: (o) => yesNo(o.offerha) },
    ],
    load: ({ page, pagesize, keyword }) => list("listServiceOfferings", "serviceoffering", { page, pagesize, keyword }),
    tools: [link("/client/offerings/add", "+ Add Service Offering", { class: "button primary" })],
  });
  main.append(pageHead({ title: "Service Offerings", crumbs: [["/client/", "Home"]] }), table.element);
  await table.reload();
  return { refresh: () => table.reload(), topics: () => false };
}

export async function mountAddOffering(main, { navigate }) {
  const error = h("div", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "OK");
  const form = h("form", { class: "panel form-narrow", novalidate: true, "aria-label": "Add Service Offering" }, error,
    field("Name", "name", { required: true }),
    field("Description", "displaytext", { required: true }),
    field("Storage Type", "storagetype", { kind: "select", options: ["shared", "local"], value: "shared" }),
    field("Provisioning Type", "provisioningtype", { kind: "select", options: ["thin", "sparse", "fat"], value: "thin" }),
    field("# of CPU Cores", "cpunumber", { kind: "number", required: true, min: 1, value: "1" }),
    field("CPU (in MHz)", "cpuspeed", { kind: "number", required: true, min: 1, value: "500" }),
    field("Memory (in MB)", "memory", { kind: "number", required: true, min: 32, value: "512" }),
    field("Offer HA", "offerha", { kind: "checkbox",
      hint: "If yes, instances are failover-cluster roles that the cluster restarts elsewhere when their node fails." }),
    field("Host Tag", "hosttags"),
    field("Storage Tags", "tags"),
    h("div", { class: "form-actions" }, link("/client/offerings", "Cancel", { class: "button" }), submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const missing = [["name", "name"], ["displaytext", "description"], ["cpunumber", "number of CPU cores"],
      ["cpuspeed", "CPU speed"], ["memory", "memory"]].find(([name]) => !values[name]);
    if (missing) {
      error.textContent = `Enter the ${missing[1]}.`;
      form.elements[missing[0]].focus();
      return;
    }
    submit.disabled = true;
    error.textContent = "";
    try {
      await call("createServiceOffering", { ...values, offerha: values.offerha ? "true" : "false" });
      navigate("/client/offerings");
    } catch (failure) {
      error.textContent = failure.message;
      submit.disabled = false;
    }
  });
  main.append(pageHead({ title: "Add Service Offering", crumbs: CRUMBS }), form);
  form.elements.name.focus();
  return {};
}
