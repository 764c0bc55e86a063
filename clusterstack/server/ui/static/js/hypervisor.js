// The hypervisor's name: the API answers and takes CloudStack's "Hyperv" (its HypervisorType); people read
// "Hyper-V". Compare API values with isHyperv (CloudStack matches hypervisor names case-insensitively) and show
// them with hypervisorLabel.
export const HYPERV = "Hyperv";

export function isHyperv(name) {
  return (name ?? "").toLowerCase() === HYPERV.toLowerCase();
}

export function hypervisorLabel(name) {
  return isHyperv(name) ? "Hyper-V" : (name ?? "");
}
