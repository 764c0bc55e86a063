// Add Instance: zone, template, compute offering, data disk, name; then the deploy job, shown to its end.

import { call, listAll, waitForJob } from "../api.js";
import { field, formValues } from "../dialog.js";
import { h, link, pageHead } from "../dom.js";
import { badge } from "../format.js";

const STEPS = ["Zone", "Template", "Compute offering", "Disk", "Name"];

export async function mountAddInstance(main, { admin, query }) {
  const [zones, offerings, diskOfferings] = await Promise.all([
    listAll("listZones", "zone", { available: true }),
    listAll("listServiceOfferings", "serviceoffering"),
    listAll("listDiskOfferings", "diskoffering"),
  ]);
  const templatesByZone = new Map();
  async function templates(zoneid) {
    if (!templatesByZone.has(zoneid)) {
      templatesByZone.set(zoneid, await listAll("listTemplates", "template", { templatefilter: "executable", zoneid }));
    }
    return templatesByZone.get(zoneid);
  }

  const error = h("div", { class: "form-error", role: "alert" });
  const stepList = h("ol", { class: "wizard-steps", "aria-label": "Steps" }, STEPS.map((name) => h("li", {}, name)));
  const templateField = field("Template", "templateid", { kind: "select", required: true, options: [] });
  const fieldsets = [
    h("fieldset", {}, h("legend", {}, "Zone"),
      field("Zone", "zoneid", { kind: "select", required: true, value: query.get("zoneid") ?? "",
        options: zones.map((zone) => [zone.id, zone.name]) })),
    h("fieldset", {}, h("legend", {}, "Template"), templateField),
    h("fieldset", {}, h("legend", {}, "Compute offering"),
      field("Compute offering", "serviceofferingid", { kind: "select", required: true,
        options: offerings.map((o) => [o.id, `${o.name} — ${o.cpunumber} × ${o.cpuspeed} MHz, ${o.memory} MB${o.offerha ? ", HA" : ""}`]),
        hint: "An offering with Offer HA makes the instance a failover-cluster role with priority Medium." })),
    h("fieldset", {}, h("legend", {}, "Disk"),
      field("Data disk", "diskofferingid", { kind: "select",
        options: [["", "No data disk"], ...diskOfferings.map((d) => [d.id, `${d.name}${d.iscustomized ? " (custom size)" : ` — ${d.disksize} GB`}`])] }),
      field("Size (GB)", "size", { kind: "number", min: 1, hint: "For a disk offering with a custom size." })),
    h("fieldset", {}, h("legend", {}, "Name"),
      field("Name", "name", { hint: "The instance's host name: letters, digits and hyphens." }),
      field("Display Name", "displayname"),
      admin ? field("Host", "hostid", { kind: "select", options: [["", "Any host (the planner picks)"]] }) : null),
  ];
  const back = h("button", { type: "button" }, "Back");
  const next = h("button", { type: "button", class: "primary" }, "Next");
  const launch = h("button", { type: "submit", class: "primary" }, "Launch instance");
  const form = h("form", { class: "panel form-narrow", novalidate: true, "aria-label": "Add Instance" },
    stepList, error, fieldsets, h("div", { class: "form-actions" }, back, next, launch));
  const progress = h("section", { class: "panel form-narrow", "aria-label": "Deployment", hidden: true });
  let step = 0;

  async function fillTemplates() {
    const select = form.elements.templateid;
    const options = (await templates(form.elements.zoneid.value)).map((t) => h("option", { value: t.id }, t.name));
    select.replaceChildren(...options);
    if (!options.length) select.append(h("option", { value: "" }, "No template ready in this zone"));
  }
  async function fillHosts() {
    if (!admin) return;
    const hosts = await listAll("listHosts", "host", { zoneid: form.elements.zoneid.value, type: "Routing" });
    form.elements.hostid.replaceChildren(h("option", { value: "" }, "Any host (the planner picks)"),
      ...hosts.map((host) => h("option", { value: host.id }, `${host.name} (${host.clustername}, ${host.state})`)));
  }
  function show() {
    fieldsets.forEach((set, index) => { set.hidden = index !== step; });
    [...stepList.children].forEach((li, index) => {
      if (index === step) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    });
    back.disabled = step === 0;
    next.hidden = step === STEPS.length - 1;
    launch.hidden = step !== STEPS.length - 1;
    updateLaunch();
    fieldsets[step].querySelector("select, input")?.focus();
  }
  // What the form still lacks before it can deploy (a template, an offering, a custom disk's size), or null.
  function missing() {
    const { elements } = form;
    if (!elements.zoneid.value) return "a zone";
    if (!elements.templateid.value) return "a template";
    if (!elements.serviceofferingid.value) return "a compute offering";
    const disk = diskOfferings.find((d) => d.id === elements.diskofferingid.value);
    if (disk?.iscustomized && !(Number(elements.size.value) >= 1)) return "the data disk's size";
    return null;
  }
  // Launch is active only on the last step of a complete form; its title says what is missing.
  function updateLaunch() {
    const lacking = missing();
    launch.disabled = Boolean(lacking) || step !== STEPS.length - 1;
    if (lacking) launch.title = `Choose ${lacking} first`;
    else launch.removeAttribute("title");
  }
  function stepValid() {
    for (const control of fieldsets[step].querySelectorAll("select, input")) {
      if (control.required && !control.value) {
        error.textContent = `Choose a ${control.labels[0]?.textContent.toLowerCase() ?? control.name}.`;
        control.focus();
        return false;
      }
    }
    error.textContent = "";
    return true;
  }
  back.addEventListener("click", () => { step = Math.max(0, step - 1); show(); });
  next.addEventListener("click", () => {
    if (!stepValid()) return;
    step += 1;
    show();
  });
  form.elements.zoneid.addEventListener("change", async () => {
    await Promise.all([fillTemplates(), fillHosts()]);
    updateLaunch();
  });
  form.addEventListener("input", updateLaunch);
  form.addEventListener("change", updateLaunch);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!stepValid() || missing()) return;
    const values = formValues(form);
    launch.disabled = true;
    let answer;
    try {
      answer = await call("deployVirtualMachine", {
        zoneid: values.zoneid, templateid: values.templateid, serviceofferingid: values.serviceofferingid,
        diskofferingid: values.diskofferingid, size: values.diskofferingid ? values.size : undefined,
        name: values.name, displayname: values.displayname, hostid: values.hostid,
      });
    } catch (failure) {
      error.textContent = failure.message;
      launch.disabled = false;
      return;
    }
    form.hidden = true;
    progress.hidden = false;
    const status = h("p", { role: "status" }, "Deploying…");
    const bar = h("progress", { "aria-label": "Deployment progress" });
    const heading = h("h2", {}, "Deploying");
    progress.replaceChildren(heading, status, bar, h("p", { class: "muted" }, `Job ${answer.jobid}`));
    try {
      const result = await waitForJob(answer.jobid, () => { status.textContent = "Deploying: creating the VM on the Cluster Shared Volume and adding it as a role…"; });
      const vm = result.virtualmachine;
      bar.max = 1;
      bar.value = 1;
      heading.textContent = vm.state;
      status.replaceChildren(`Instance ${vm.name} (${vm.instancename}) is `, badge(vm.state), ` on ${vm.hostname ?? "no host"}.`);
      progress.append(h("p", {}, link(`/client/instances/${vm.id}`, `Open ${vm.name}`), " · ",
        link("/client/instances", "All instances")));
    } catch (failure) {
      bar.max = 1;
      bar.value = 1;
      heading.textContent = "Failed";
      status.replaceChildren(badge("Failed"), ` ${failure.message}`);
      progress.append(h("p", {}, link("/client/instances", "Back to instances")));
    }
  });

  main.append(pageHead({ title: "Add Instance", crumbs: [["/client/", "Home"], ["/client/instances", "Instances"]] }),
    zones.length ? form : h("p", { class: "notice" }, "No zone is enabled yet."), progress);
  await Promise.all([fillTemplates(), fillHosts()]);
  show();
  return {};
}
