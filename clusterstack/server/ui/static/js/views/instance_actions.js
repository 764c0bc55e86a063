// What can be done to an instance, by state: each action asks first, then follows its async job to the end.

import { call, listAll } from "../api.js";
import { confirmAction, field, formValues, openDialog } from "../dialog.js";
import { actionButton, trackJob } from "../jobs.js";

function label(vm) {
  return vm.displayname && vm.displayname !== vm.name ? `${vm.name} (${vm.displayname})` : vm.name;
}

async function run(title, command, params) {
  return trackJob(title, () => call(command, params));
}

const ACTIONS = [
  {
    name: "Start", when: (vm) => vm.state === "Stopped",
    async act(vm) {
      if (!await confirmAction("Start instance", `Start ${label(vm)}?`, { submitLabel: "Start" })) return;
      await run(`Start ${vm.name}`, "startVirtualMachine", { id: vm.id });
    },
  },
  {
    name: "Stop", when: (vm) => ["Running", "Starting", "Migrating", "Error"].includes(vm.state),
    async act(vm) {
      const form = await confirmAction("Stop instance", `Stop ${label(vm)}? Its failover-cluster role goes offline.`,
        { submitLabel: "Stop", danger: true,
          fields: [field("Force stop", "forced", { kind: "checkbox", hint: "Turn it off without shutting down the guest." })] });
      if (!form) return;
      await run(`Stop ${vm.name}`, "stopVirtualMachine", { id: vm.id, forced: form.get("forced") === "on" ? "true" : undefined });
    },
  },
  {
    name: "Reboot", when: (vm) => vm.state === "Running",
    async act(vm) {
      if (!await confirmAction("Reboot instance", `Reboot ${label(vm)}?`, { submitLabel: "Reboot" })) return;
      await run(`Reboot ${vm.name}`, "rebootVirtualMachine", { id: vm.id });
    },
  },
  {
    name: "Migrate", admin: true, when: (vm) => vm.state === "Running",
    async act(vm) {
      const hosts = (await listAll("listHosts", "host", { clusterid: vm.clusterid, type: "Routing" }))
        .filter((host) => host.id !== vm.hostid);
      const options = hosts.map((host) => [host.id, `${host.name} (${host.state}, ${host.resourcestate})`]);
      if (!options.length) {
        await openDialog({ title: "Migrate instance", message: `No other host in cluster ${vm.clustername}.`,
          submitLabel: "Close" });
        return;
      }
      const chosen = await openDialog({
        title: "Migrate instance", submitLabel: "Migrate",
        message: `Live-migrate ${label(vm)} from ${vm.hostname} through the failover cluster.`,
        fields: [field("Host", "hostid", { kind: "select", options, required: true })],
        submit: (form) => formValues(form),
      });
      if (!chosen) return;
      const host = hosts.find((item) => item.id === chosen.hostid);
      await run(`Migrate ${vm.name} to ${host?.name ?? "host"}`, "migrateVirtualMachine",
        { virtualmachineid: vm.id, hostid: chosen.hostid });
    },
  },
  {
    name: "Destroy", danger: true, when: (vm) => !["Destroyed", "Expunging"].includes(vm.state),
    async act(vm, { admin }) {
      const form = await confirmAction("Destroy instance", `Destroy ${label(vm)}? Its role is removed from the failover cluster.`,
        { submitLabel: "Destroy", danger: true,
          fields: admin ? [field("Expunge", "expunge", { kind: "checkbox", hint: "Delete it and its volumes now; it cannot be recovered." })] : [] });
      if (!form) return;
      await run(`Destroy ${vm.name}`, "destroyVirtualMachine", { id: vm.id, expunge: form.get("expunge") === "on" ? "true" : undefined });
    },
  },
  {
    name: "Recover", admin: true, when: (vm) => vm.state === "Destroyed",
    async act(vm) {
      if (!await confirmAction("Recover instance", `Recover ${label(vm)}? It comes back Stopped.`, { submitLabel: "Recover" })) return;
      await run(`Recover ${vm.name}`, "recoverVirtualMachine", { id: vm.id });
    },
  },
  {
    name: "Expunge", admin: true, danger: true, when: (vm) => vm.state === "Destroyed",
    async act(vm) {
      if (!await confirmAction("Expunge instance", `Expunge ${label(vm)}? It and its volumes are deleted for good.`,
        { submitLabel: "Expunge", danger: true })) return;
      await run(`Expunge ${vm.name}`, "expungeVirtualMachine", { id: vm.id });
    },
  },
];

// Buttons for one instance; onChanged runs after a job ends (successfully or not).
export function instanceActions(vm, { admin, onChanged }) {
  return ACTIONS.filter((action) => (!action.admin || admin) && action.when(vm)).map((action) =>
    actionButton(action.name, `${action.name} ${vm.name}`, () => action.act(vm, { admin }), onChanged));
}
