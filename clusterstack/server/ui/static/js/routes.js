// Every screen of the console and the path it lives at (each view has its own URL).

import { mountAlerts, mountEvents } from "./views/activity.js";
import { mountAddInstance } from "./views/add_instance.js";
import { mountAddStorage } from "./views/add_storage.js";
import { mountFailoverCluster } from "./views/failover_cluster.js";
import { mountDashboard } from "./views/dashboard.js";
import { mountHost } from "./views/host.js";
import { mountClusters, mountHosts, mountInfrastructure, mountPods, mountStorage, mountZones } from "./views/infrastructure.js";
import { mountInstance } from "./views/instance.js";
import { mountInstances } from "./views/instances.js";
import { mountLogin } from "./views/login.js";
import { mountAddOffering, mountOfferings } from "./views/offerings.js";
import { mountRehearsal } from "./views/rehearsal.js";

const UUID = "[0-9a-fA-F-]{36}";

function route(name, path, title, view, admin = false) {
  return { name, pattern: new RegExp(`^${path}$`), title, view, admin };
}

export const ROUTES = [
  route("login", "/client/login", "Log in", mountLogin),
  route("dashboard", "/client/", "Dashboard", mountDashboard),
  route("instances", "/client/instances", "Instances", mountInstances),
  route("add-instance", "/client/instances/add", "Add Instance", mountAddInstance),
  route("instance", `/client/instances/(?<id>${UUID})`, "Instance", mountInstance),
  route("infrastructure", "/client/infrastructure", "Infrastructure", mountInfrastructure, true),
  route("zones", "/client/zones", "Zones", mountZones, true),
  route("pods", "/client/pods", "Pods", mountPods, true),
  route("clusters", "/client/clusters", "Clusters", mountClusters, true),
  route("failover-cluster", `/client/clusters/(?<id>${UUID})(?:/(?<view>roles|nodes|disks|events))?`,
    "Failover cluster", mountFailoverCluster, true),
  route("rehearsal", `/client/clusters/(?<id>${UUID})/whatif`, "What if a node fails?", mountRehearsal, true),
  route("hosts", "/client/hosts", "Hosts", mountHosts, true),
  route("host", `/client/hosts/(?<id>${UUID})`, "Host", mountHost, true),
  route("storage", "/client/storage", "Primary Storage", mountStorage, true),
  route("add-storage", "/client/storage/add", "Add Primary Storage", mountAddStorage, true),
  route("offerings", "/client/offerings", "Service Offerings", mountOfferings, true),
  route("add-offering", "/client/offerings/add", "Add Service Offering", mountAddOffering, true),
  route("events", "/client/events", "Events", mountEvents),
  route("alerts", "/client/alerts", "Alerts", mountAlerts, true),
];
