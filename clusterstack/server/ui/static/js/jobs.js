// Async jobs in progress, shown in a corner tray until they end: the operator sees every job to its end.

import { waitForJob } from "./api.js";
import { h } from "./dom.js";

const STATUS = { 0: "In progress", 1: "Succeeded", 2: "Failed" };

// A row or page action: disabled while it runs (its confirmation and its job); after() runs once it ends, whether
// it succeeded or not (a failure is shown in the job tray or its dialog).
export function actionButton(text, ariaLabel, act, after) {
  const button = h("button", { type: "button", class: "small", "aria-label": ariaLabel }, text);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await act();
    } catch {
      // Shown in the job tray.
    } finally {
      button.disabled = false;
      after?.();
    }
  });
  return button;
}

// start() calls the async command and returns its answer ({jobid, ...}); resolves with the job result.
export async function trackJob(label, start) {
  const tray = document.getElementById("jobs");
  const status = h("span", { class: "job-status" }, "Submitting…");
  const bar = h("progress", { "aria-label": `${label} progress` });
  const detail = h("span", { class: "muted" });
  const close = h("button", { type: "button", class: "small", hidden: true }, "Dismiss");
  const card = h("article", { class: "job", "aria-label": label },
    h("div", { class: "job-head" }, h("span", {}, label), status), bar, detail, close);
  close.addEventListener("click", () => card.remove());
  tray.append(card);
  try {
    const answer = await start();
    if (!answer.jobid) {
      finish("done", "Succeeded");
      return answer;
    }
    detail.textContent = `Job ${answer.jobid}`;
    const result = await waitForJob(answer.jobid, (job) => {
      status.textContent = STATUS[job.jobstatus] ?? "In progress";
    });
    finish("done", "Succeeded");
    setTimeout(() => card.remove(), 8000);
    return result;
  } catch (error) {
    finish("failed", "Failed");
    detail.textContent = error.message;
    throw error;
  }

  function finish(kind, text) {
    card.classList.add(kind);
    status.textContent = text;
    bar.max = 1;
    bar.value = 1;
    close.hidden = false;
  }
}
