// Why a node or a role is down, in words an operator can act on, wherever the console shows that state.
// The failover cluster's own words come first (Failover Cluster Manager's Information column), then the way out.

export const THRESHOLD_EXCEEDED = "Failover threshold exceeded";

export function isThresholdExceeded(text) {
  return String(text ?? "").toLowerCase().includes(THRESHOLD_EXCEEDED.toLowerCase());
}

function plural(count, word) {
  return `${count} ${word}${Number(count) === 1 ? "" : "s"}`;
}

// "Failover threshold exceeded (2 failovers in 6 hours, threshold 1; event 1254); the role stays down until ...".
// `role` carries what listFailoverClusterRoles answers: failoverthreshold (in force), failoverperiod (hours) and
// recentfailovers (when the cluster tells); without them, WSFC's defaults (nodes - 1 within 6 hours) are named.
export function thresholdExplanation(role = {}, nodecount = undefined) {
  const hours = Number(role.failoverperiod ?? 6);
  const nodes = Number(nodecount);
  const threshold = role.failoverthreshold ?? (Number.isFinite(nodes) && nodes > 1 ? nodes - 1 : null);
  let counted;
  if (role.recentfailovers) {
    counted = `${plural(role.recentfailovers, "failover")} in ${plural(hours, "hour")}`
      + (threshold != null ? `, threshold ${threshold}` : "");
  } else if (threshold != null) {
    counted = `more than ${plural(threshold, "failover")} in ${plural(hours, "hour")}`;
  } else {
    counted = `more failovers in ${plural(hours, "hour")} than its threshold (by default nodes - 1)`;
  }
  return `${THRESHOLD_EXCEEDED} (${counted}; event 1254); the role stays down until an administrator starts it, `
    + "or the cluster tries again after its restart delay (1 hour).";
}

// What Failover Cluster Manager's Information column says about a role, with the threshold spelt out.
export function roleInformation(role, nodecount) {
  if (isThresholdExceeded(role.information)) return thresholdExplanation(role, nodecount);
  return role.information ?? "";
}

export function quarantineExplanation(nodeName) {
  return `Quarantined: ${nodeName ?? "the node"} left the cluster 3 times within an hour, so the cluster keeps it `
    + "out (for 2 hours) and its host is Down; clear it with Clear quarantine (Start-ClusterNode -ClearQuarantine).";
}

// A node's Information: quarantine and its way out, a drain in progress.
export function nodeInformation(node) {
  if (node.status === "Quarantined") return quarantineExplanation(node.name);
  return node.drainstatus && node.drainstatus !== "NotInitiated" ? `Drain ${node.drainstatus.toLowerCase()}` : "";
}
