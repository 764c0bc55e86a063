// The CloudStack API as the console uses it: the session from `login`, one call per command, async jobs.

const STORE = "clusterstack.session";
const ENDPOINT = "/client/api";
const unauthorizedHandlers = new Set();
const jobWakers = new Map();

export class ApiError extends Error {
  constructor(code, text, command) {
    super(text || `Error ${code}`);
    this.code = code;
    this.command = command;
  }
}

export const session = {
  get() {
    try {
      return JSON.parse(localStorage.getItem(STORE) || "null");
    } catch {
      return null;
    }
  },
  set(value) {
    localStorage.setItem(STORE, JSON.stringify(value));
  },
  clear() {
    localStorage.removeItem(STORE);
  },
  isAdmin() {
    const s = this.get();
    return Boolean(s) && ["ADMIN", "1"].includes(String(s.type).toUpperCase());
  },
};

export function onUnauthorized(handler) {
  unauthorizedHandlers.add(handler);
}

function clean(params) {
  const out = {};
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === "") continue;
    out[key] = String(value);
  }
  return out;
}

// Reads go as GET (cacheable by nobody: the session key is in them); changes go as POST.
function isRead(command) {
  return /^(list|query|get|find)/.test(command);
}

export async function call(command, params = {}) {
  const body = new URLSearchParams({ command, response: "json", ...clean(params) });
  const current = session.get();
  if (current && command !== "login") body.set("sessionkey", current.sessionkey);
  const read = isRead(command);
  let response;
  try {
    response = await fetch(read ? `${ENDPOINT}?${body}` : ENDPOINT, {
      method: read ? "GET" : "POST",
      credentials: "same-origin",
      headers: read ? { Accept: "application/json" }
        : { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: read ? undefined : body,
    });
  } catch (error) {
    throw new ApiError(0, `The management server did not answer (${error.message}).`, command);
  }
  let payload;
  try {
    payload = await response.json();
  } catch {
    throw new ApiError(response.status, `The management server answered ${response.status} ${response.statusText}.`,
      command);
  }
  const inner = payload[Object.keys(payload)[0]] ?? {};
  if (inner.errorcode || !response.ok) {
    const code = inner.errorcode || response.status;
    if (code === 401 && command !== "login") {
      for (const handler of unauthorizedHandlers) handler();
    }
    throw new ApiError(code, inner.errortext || `Error ${code}`, command);
  }
  return inner;
}

// A list command as {items, count}: CloudStack leaves out both keys when nothing matched.
export async function list(command, key, params = {}) {
  const inner = await call(command, params);
  const items = inner[key] ?? [];
  return { items, count: inner.count ?? items.length };
}

// Every page of a list (for small lists the console needs whole: hosts of a cluster, zones...).
export async function listAll(command, key, params = {}) {
  const pagesize = 500;
  const items = [];
  for (let page = 1; ; page += 1) {
    const result = await list(command, key, { ...params, page, pagesize });
    items.push(...result.items);
    if (result.items.length < pagesize || items.length >= result.count) return items;
  }
}

export async function login(username, password, domain) {
  const answer = await call("login", { username, password, domain });
  session.set({
    sessionkey: answer.sessionkey, username: answer.username, account: answer.account, type: answer.type,
    userid: answer.userid, domainid: answer.domainid, timeout: answer.timeout,
    firstname: answer.firstname, lastname: answer.lastname,
  });
  return answer;
}

export async function logout() {
  try {
    await call("logout");
  } finally {
    session.clear();
  }
}

// Called by the live channel when it hears that a job finished: the waiting poll looks at once.
export function wakeJob(jobid) {
  const wake = jobWakers.get(jobid);
  if (wake) wake();
}

// Waits for an async job; onProgress sees each answer. Resolves with the job result, rejects with ApiError.
export async function waitForJob(jobid, onProgress = () => {}) {
  let delay = 300;
  for (;;) {
    const job = await call("queryAsyncJobResult", { jobid });
    onProgress(job);
    if (job.jobstatus === 1) return job.jobresult ?? {};
    if (job.jobstatus === 2) {
      const result = job.jobresult ?? {};
      throw new ApiError(result.errorcode ?? job.jobresultcode ?? 530, result.errortext || "The job failed.",
        job.cmd);
    }
    await new Promise((resolve) => {
      const timer = setTimeout(done, delay);
      function done() {
        clearTimeout(timer);
        jobWakers.delete(jobid);
        resolve();
      }
      jobWakers.set(jobid, done);
    });
    delay = Math.min(delay * 1.5, 2000);
  }
}
