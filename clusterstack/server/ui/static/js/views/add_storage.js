// Add Primary Storage, with the seed's fields: Scope, Zone, Pod, Cluster, Name, Protocol, Provider, and the path.
// Hyper-V takes PreSetup (a Cluster Shared Volume of the cluster, scope Cluster) or SMB/CIFS (Cluster or Zone).
// As in CloudStack's UI it is a dialog over the Primary Storage list (at its own URL, /client/storage/add): the
// fields scroll inside it, its title and OK/Cancel stay in view on a laptop screen.

import { call, listAll } from "../api.js";
import { field, formValues } from "../dialog.js";
import { h } from "../dom.js";
import { HYPERV, isHyperv } from "../hypervisor.js";
import { mountStorage } from "./infrastructure.js";

function options(items) {
  return items.map((item) => h("option", { value: item.id }, item.name));
}

export function storageUrl(values, clusterName) {
  if (values.protocol === "PreSetup") return `PreSetup://${clusterName}/${values.path}`;
  const share = values.path.replace(/\\/g, "/").replace(/^\/+/, "");
  return `cifs://${values.server}/${share}`;
}

export async function mountAddStorage(main, { navigate }) {
  const listed = await mountStorage(main);
  const zones = await listAll("listZones", "zone");
  const error = h("div", { class: "form-error", role: "alert" });
  const presetupOnly = h("div", {},
    field("Path", "path", { required: true, placeholder: "e.g. C:\\ClusterStorage\\Volume1",
      hint: "PreSetup: the Cluster Shared Volume's path, the same on every node. SMB/CIFS: the share's path." }));
  const smbOnly = h("div", { hidden: true },
    field("Server", "server", { required: true, placeholder: "e.g. fileserver.example.org" }),
    field("SMB Username", "smbuser", { required: true, autocomplete: "off" }),
    field("SMB Password", "smbpassword", { kind: "password", required: true, autocomplete: "new-password" }),
    field("SMB Domain", "smbdomain"));
  const podField = field("Pod", "podid", { kind: "select", required: true });
  const clusterField = field("Cluster", "clusterid", { kind: "select", required: true });
  const submit = h("button", { type: "submit", class: "primary" }, "OK");
  const cancel = h("button", { type: "button" }, "Cancel");
  const heading = h("h2", { id: "add-storage-title" }, "Add Primary Storage");
  const form = h("form", { novalidate: true, "aria-labelledby": heading.id },
    heading,
    h("div", { class: "dialog-body" },
      h("p", { class: "hint" }, "For Hyper-V, choose SMB/CIFS or PreSetup (a Cluster Shared Volume)."),
      error,
      field("Scope", "scope", { kind: "select", options: [["CLUSTER", "Cluster"], ["ZONE", "Zone"]], value: "CLUSTER" }),
      field("Zone", "zoneid", { kind: "select", required: true, options: zones.map((z) => [z.id, z.name]) }),
      podField, clusterField,
      field("Name", "name", { required: true }),
      field("Protocol", "protocol", { kind: "select", options: [["PreSetup", "PreSetup"], ["SMB", "SMB/CIFS"]], value: "PreSetup" }),
      presetupOnly, smbOnly,
      field("Provider", "provider", { kind: "select", options: ["DefaultPrimary"] }),
      field("Storage Tags", "tags", { hint: "Comma-separated; offerings with the same tags use this storage." })),
    h("div", { class: "form-actions" }, cancel, submit));
  const dialog = h("dialog", { class: "form-dialog", "aria-labelledby": heading.id }, form);
  const { elements } = form;
  let pods = [];
  let clusters = [];
  let closed = false;

  function close() {
    if (closed) return;
    closed = true;
    dialog.close();
    dialog.remove();
  }
  function leave() {
    close();
    navigate("/client/storage");
  }
  async function fillPods() {
    pods = elements.zoneid.value ? await listAll("listPods", "pod", { zoneid: elements.zoneid.value }) : [];
    elements.podid.replaceChildren(...options(pods));
    await fillClusters();
  }
  async function fillClusters() {
    clusters = elements.podid.value
      ? (await listAll("listClusters", "cluster", { podid: elements.podid.value })).filter((c) => isHyperv(c.hypervisortype))
      : [];
    elements.clusterid.replaceChildren(...options(clusters));
  }
  function arrange() {
    const zoneWide = elements.scope.value === "ZONE";
    podField.hidden = zoneWide;
    clusterField.hidden = zoneWide;
    const presetup = elements.protocol.querySelector('option[value="PreSetup"]');
    presetup.disabled = zoneWide;
    if (zoneWide && elements.protocol.value === "PreSetup") elements.protocol.value = "SMB";
    smbOnly.hidden = elements.protocol.value !== "SMB";
  }
  elements.zoneid.addEventListener("change", fillPods);
  elements.podid.addEventListener("change", fillClusters);
  elements.scope.addEventListener("change", arrange);
  elements.protocol.addEventListener("change", arrange);
  cancel.addEventListener("click", leave);
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    leave();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const zoneWide = values.scope === "ZONE";
    const needed = [["zoneid", "zone"], ["name", "name"], ["path", "path"]];
    if (!zoneWide) needed.push(["podid", "pod"], ["clusterid", "cluster"]);
    if (values.protocol === "SMB") needed.push(["server", "server"], ["smbuser", "SMB username"], ["smbpassword", "SMB password"]);
    const missing = needed.find(([name]) => !values[name]);
    if (missing) {
      error.textContent = `Enter the ${missing[1]}.`;
      elements[missing[0]].focus();
      return;
    }
    const cluster = clusters.find((c) => c.id === values.clusterid);
    const params = {
      name: values.name, zoneid: values.zoneid, scope: values.scope, hypervisor: HYPERV,
      url: storageUrl(values, cluster?.name ?? ""), provider: values.provider, tags: values.tags,
      podid: zoneWide ? undefined : values.podid, clusterid: zoneWide ? undefined : values.clusterid,
    };
    if (values.protocol === "SMB") {
      Object.assign(params, { "details[0].user": values.smbuser, "details[0].password": values.smbpassword,
        "details[0].domain": values.smbdomain });
    }
    error.textContent = "";
    submit.disabled = true;
    try {
      await call("createStoragePool", params);
      leave();
    } catch (failure) {
      error.textContent = failure.message;
      error.scrollIntoView({ block: "nearest" });
      submit.disabled = false;
    }
  });

  document.title = "Add Primary Storage · clusterstack";
  document.body.append(dialog);
  dialog.showModal();
  await fillPods();
  arrange();
  elements.scope.focus();
  return { ...listed, dispose: close };
}
