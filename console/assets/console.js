// revocore operator console (docs/CONSOLE.md): a static page over the operator API. Every
// process runs through the API, as any other client's would; the console only shows what the
// API answers and offers what the operator's permissions (GET /api/v1/whoami) allow and the
// configuration's required states (GET /api/v1/processes) make possible.
//
// Every value from the server is put in the page as text (textContent), never parsed as HTML,
// so a user named <img src=x onerror=alert(1)> shows as just that.

const main = document.getElementById("main");
let whoami = null;
let processes = {};

// ---- the API ----

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let json = null;
  try {
    json = await response.json();
  } catch (e) {
    json = null;
  }
  return { status: response.status, ok: response.ok, body: json };
}

// What a failed answer says, as the API's problem details say it.
function problemText(answer) {
  if (answer.body && answer.body.detail) {
    return answer.body.detail;
  }
  return `the server answered ${answer.status}`;
}

function permits(permission) {
  return whoami !== null && whoami.permissions.includes(permission);
}

// ---- building the page, as text only ----

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (name === "onclick" || name === "onsubmit" || name === "onchange" || name === "oninput") {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function show(...nodes) {
  main.replaceChildren(...nodes);
}

function problem(text) {
  return el("p", { class: "problem", role: "alert" }, text);
}

function stateText(state) {
  return el("span", { class: `state state-${state}` }, state.replace("_", " "));
}

function statusText(status) {
  return el("span", { class: `state status-${status}` }, status.replace("_", " "));
}

function link(href, text) {
  return el("a", { href }, text);
}

// ---- search ----

async function searchPage(params) {
  const q = params.get("q") || "";
  const offset = Number(params.get("offset") || 0);
  const input = el("input", { type: "search", id: "q", name: "q", value: q, autocomplete: "off",
                              placeholder: "user id or name, card id, certificate serial" });
  const form = el("form", { class: "search", role: "search", onsubmit: (event) => {
    event.preventDefault();
    location.hash = `#/search?q=${encodeURIComponent(input.value.trim())}`;
  } }, el("label", { for: "q" }, "Search users, credentials and certificates"), input,
     el("button", { type: "submit", class: "primary" }, "Search"));
  const results = el("div", { id: "results", "aria-live": "polite" });
  show(el("h1", {}, "Search"), el("div", { class: "panel" }, form), results);
  input.focus();
  if (q === "") {
    return;
  }
  const answer = await api("GET", `/api/v1/search?q=${encodeURIComponent(q)}&limit=20&offset=${offset}`);
  if (!answer.ok) {
    results.replaceChildren(problem(problemText(answer)));
    return;
  }
  const hits = answer.body.hits;
  if (hits.length === 0) {
    results.replaceChildren(el("p", {}, `Nothing matches “${q}”.`));
    return;
  }
  const list = el("ul", { class: "hits" });
  for (const hit of hits) {
    if (hit.kind === "user") {
      list.append(el("li", {}, el("span", { class: "kind" }, "user"),
                     link(`#/user/${encodeURIComponent(hit.id)}`, `${hit.id} ${hit.name || ""}`), " ",
                     stateText(hit.state)));
    } else if (hit.kind === "credential") {
      list.append(el("li", {}, el("span", { class: "kind" }, hit.type.replace(/_/g, " ")),
                     link(`#/user/${encodeURIComponent(hit.user)}`, hit.id), ` of user ${hit.user} `,
                     stateText(hit.state)));
    } else {
      list.append(el("li", {}, el("span", { class: "kind" }, "certificate"),
                     link(`#/user/${encodeURIComponent(hit.user || "")}`, `${hit.issuer}/${hit.serial}`),
                     ` ${hit.subject} `, statusText(hit.status)));
    }
  }
  const pages = el("div", { class: "actions" });
  if (offset > 0) {
    pages.append(link(`#/search?q=${encodeURIComponent(q)}&offset=${Math.max(0, offset - 20)}`, "Previous page"));
  }
  if (answer.body.more) {
    pages.append(link(`#/search?q=${encodeURIComponent(q)}&offset=${offset + 20}`, "Next page"));
  }
  results.replaceChildren(el("h2", {}, "Results"), list, pages);
}

// ---- a user's profile ----

// The processes of this target kind that apply to an object in this state, and that the
// operator may run.
function processesFor(target, state, type) {
  const offered = [];
  for (const [name, process] of Object.entries(processes)) {
    if (process.target !== target || !permits(`process:${name}`)) {
      continue;
    }
    if (target === "certificate" ? !process.required_status.includes(state)
                                 : !process.required_state.includes(state)) {
      continue;
    }
    if (target === "credential" && !process.credential_types.includes(type)) {
      continue;
    }
    offered.push([name, process]);
  }
  return offered;
}

function processButtons(target, state, type, targetId, userId) {
  const buttons = el("div", { class: "actions" });
  for (const [name, process] of processesFor(target, state, type)) {
    buttons.append(el("a", { class: "button", "data-process": name,
                             href: `#/process/${name}/${encodeURIComponent(targetId)}?user=${encodeURIComponent(userId)}` },
                      process.title));
  }
  return buttons;
}

async function userPage(id) {
  const answer = await api("GET", `/api/v1/users/${encodeURIComponent(id)}`);
  if (!answer.ok) {
    show(el("h1", {}, `User ${id}`), problem(problemText(answer)));
    return;
  }
  const user = answer.body;
  const facts = el("dl", { class: "facts" },
                   el("dt", {}, "Id"), el("dd", {}, user.id),
                   el("dt", {}, "Name"), el("dd", { id: "user-name" }, user.name || "—"),
                   el("dt", {}, "State"), el("dd", { id: "user-state" }, stateText(user.state)),
                   el("dt", {}, "Roles"), el("dd", {}, user.roles.length ? user.roles.join(", ") : "none"));
  const credentials = el("div", {});
  for (const credential of user.credentials) {
    const rows = credential.certificates.map((certificate) => {
      const key = `${certificate.issuer}/${certificate.serial}`;
      // data-label: on a narrow screen each row is shown as a card, labelled by CSS.
      return el("tr", { "data-certificate": key },
                el("td", { "data-label": "Serial" }, certificate.serial),
                el("td", { "data-label": "Issuer" }, certificate.issuer),
                el("td", { "data-label": "Status" }, statusText(certificate.status)),
                el("td", { "data-label": "Reason" }, certificate.reason || "—"),
                el("td", { "data-label": "Since" }, certificate.revocation_time || "—"),
                el("td", { "data-label": "Valid until" }, certificate.not_after),
                el("td", { "data-label": "Processes" },
                   processButtons("certificate", certificate.status, null, key, user.id)));
    });
    credentials.append(el("div", { class: "panel", "data-credential": credential.id },
      el("h2", {}, `${credential.type.replace(/_/g, " ")} ${credential.id} `, stateText(credential.state)),
      processButtons("credential", credential.state, credential.type, credential.id, user.id),
      el("div", { class: "table-wrap" }, el("table", {},
        el("thead", {}, el("tr", {}, ["Serial", "Issuer", "Status", "Reason", "Since", "Valid until", "Certificate processes"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows)))));
  }
  const history = el("div", { id: "history" });
  show(el("h1", {}, `${user.name || user.id}`),
       el("div", { class: "panel" }, facts, processButtons("user", user.state, null, user.id, user.id)),
       el("h2", {}, "Credentials"), credentials, el("h2", {}, "History"), history);
  if (permits("read:audit")) {
    const trail = await api("GET", `/api/v1/audit?user=${encodeURIComponent(user.id)}&limit=50`);
    history.replaceChildren(trail.ok ? auditTable(trail.body) : problem(problemText(trail)));
  } else {
    history.replaceChildren(el("p", {}, "Reading the audit trail needs permission read:audit."));
  }
}

// ---- the audit trail ----

function auditTable(records) {
  if (records.length === 0) {
    return el("p", {}, "No audit records.");
  }
  const rows = records.map((record) => el("tr", { "data-audit": record.id },
    el("td", { "data-label": "#" }, String(record.id)),
    el("td", { "data-label": "Time" }, record.time),
    el("td", { "data-label": "What" }, `${record.kind.replace(/_/g, " ")} ${record.process || ""}`),
    el("td", { "data-label": "Target" }, `${record.target_kind || ""} ${record.target || ""}`),
    el("td", { "data-label": "Operator" }, record.operator),
    el("td", { "data-label": "Reason" }, record.reason || record.note || ""),
    el("td", { "data-label": "Changed" },
       record.credentials.map((c) => `${c.id}: ${c.from} → ${c.to}`).join("; "))));
  return el("div", { class: "table-wrap" }, el("table", { class: "audit" },
    el("thead", {}, el("tr", {}, ["#", "Time", "What", "Target", "Operator", "Reason", "Changed"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows)));
}

async function auditPage(params) {
  const fields = [["operator", "Operator (part of the subject)", "text"], ["process", "Process", "select"],
                  ["since", "Since", "date"], ["until", "Until", "date"]];
  const inputs = {};
  const form = el("form", { class: "filters", id: "audit-filters", onsubmit: (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const [name] of fields) {
      if (inputs[name].value) {
        query.set(name, inputs[name].value);
      }
    }
    location.hash = `#/audit?${query.toString()}`;
  } });
  for (const [name, label, type] of fields) {
    const id = `audit-${name}`;
    inputs[name] = type === "select"
      ? el("select", { id, name }, el("option", { value: "" }, "any"),
           Object.entries(processes).map(([key, p]) => el("option", { value: key }, p.title)))
      : el("input", { id, name, type });
    inputs[name].value = params.get(name) || "";
    form.append(el("div", { class: "field" }, el("label", { for: id }, label), inputs[name]));
  }
  form.append(el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, "Filter")));
  const results = el("div", { id: "audit-results", "aria-live": "polite" });
  show(el("h1", {}, "Audit trail"), el("div", { class: "panel" }, form), results);
  const query = new URLSearchParams({ limit: "200" });
  for (const [name] of fields) {
    const value = params.get(name);
    if (value) {
      // Dates filter whole days: until the end of the day given.
      query.set(name, name === "until" ? `${value}T23:59:59Z` : value);
    }
  }
  const answer = await api("GET", `/api/v1/audit?${query.toString()}`);
  results.replaceChildren(answer.ok ? auditTable(answer.body) : problem(problemText(answer)));
}

// ---- a process: reason, preview, Cancel or Next ----

// Reasons for which an invalidity date means something (RFC 5280 5.3.2): not a hold or its end.
function takesInvalidityDate(code) {
  return code !== "certificateHold" && code !== "removeFromCRL";
}

function processPath(name, target) {
  const process = processes[name];
  if (process.target === "certificate") {
    const slash = target.lastIndexOf("/");
    const action = { CertsProcRevoke: "revoke", CertsProcHold: "hold", CertsProcRelease: "release" }[name];
    return `/api/v1/certificates/${encodeURIComponent(target.slice(0, slash))}/${encodeURIComponent(target.slice(slash + 1))}/${action}`;
  }
  return `/api/v1/processes/${encodeURIComponent(name)}`;
}

function processBody(name, target, reason, date, preview) {
  const body = { reason };
  if (processes[name].target !== "certificate") {
    body.target = target;
  }
  if (date) {
    body.invalidity_date = date;
  }
  if (preview) {
    body.preview = preview;
  }
  return body;
}

function previewView(preview) {
  const items = el("ul", { id: "preview-changes" });
  if (preview.user_state) {
    items.append(el("li", {}, `user: ${preview.user_state.from} → ${preview.user_state.to}; roles ${preview.roles.from.join(", ") || "none"} → ${preview.roles.to.join(", ") || "none"}`));
  }
  for (const credential of preview.credentials) {
    items.append(el("li", {}, `${credential.type.replace(/_/g, " ")} ${credential.id}: ${credential.from} → ${credential.to}`));
  }
  for (const change of preview.changes) {
    items.append(el("li", { class: "certificate-change" }, `certificate ${change.issuer}/${change.serial}: ${change.from} → ${change.to}${change.reason ? ` (${change.reason})` : ""}`));
  }
  if (items.children.length === 0) {
    items.append(el("li", {}, "nothing would change"));
  }
  return el("div", { id: "preview" },
            el("h2", {}, preview.approval_step ? "Would change, once a second operator approves" : "Will change"),
            items);
}

async function processPage(name, target, params) {
  const process = processes[name];
  const back = params.get("user") ? `#/user/${encodeURIComponent(params.get("user"))}` : "#/search";
  if (!process) {
    show(el("h1", {}, name), problem(`process ${name} is not configured`));
    return;
  }
  const reasonSelect = el("select", { id: "reason", name: "reason" },
    el("option", { value: "" }, "Choose a reason"),
    process.reasons.map((reason) => el("option", { value: reason.label }, `${reason.label} (${reason.code})`)));
  const dateInput = el("input", { type: "date", id: "invalidity-date", name: "invalidity_date" });
  const dateField = el("div", { class: "field", hidden: true },
    el("label", { for: "invalidity-date" }, "Invalidity date (optional: since when the key is known or suspected to be compromised)"),
    dateInput);
  const reasonProblem = el("div", { id: "reason-problem" });
  const previewArea = el("div", { id: "preview-area", "aria-live": "polite" });
  const outcomeArea = el("div", { id: "outcome", "aria-live": "polite" });
  const next = el("button", { type: "submit", class: "danger", id: "next", disabled: true }, "Next");
  const cancel = el("a", { class: "button", id: "cancel", href: back }, "Cancel");
  let fingerprint = null;

  const reasonCode = () => {
    const reason = process.reasons.find((r) => r.label === reasonSelect.value);
    return reason ? reason.code : null;
  };
  async function refreshPreview() {
    fingerprint = null;
    next.disabled = true;
    reasonProblem.replaceChildren();
    const code = reasonCode();
    dateField.hidden = !code || !takesInvalidityDate(code);
    if (!code) {
      previewArea.replaceChildren();
      return;
    }
    const date = dateField.hidden ? "" : dateInput.value;
    const answer = await api("POST", `${processPath(name, target)}?dry_run=true`,
                             processBody(name, target, reasonSelect.value, date));
    if (!answer.ok) {
      reasonProblem.replaceChildren(problem(problemText(answer)));
      previewArea.replaceChildren();
      return;
    }
    fingerprint = answer.body.preview;
    previewArea.replaceChildren(previewView(answer.body));
    next.disabled = false;
  }
  reasonSelect.addEventListener("change", refreshPreview);
  dateInput.addEventListener("change", refreshPreview);

  const form = el("form", { id: "process-form", onsubmit: async (event) => {
    event.preventDefault();
    if (fingerprint === null) {
      return;
    }
    next.disabled = true;
    const date = dateField.hidden ? "" : dateInput.value;
    const answer = await api("POST", processPath(name, target),
                             processBody(name, target, reasonSelect.value, date, fingerprint));
    if (answer.status === 409 && problemText(answer).includes("no longer what the preview showed")) {
      await refreshPreview();
      outcomeArea.replaceChildren(problem(`${problemText(answer)} The preview above is the new one.`));
      return;
    }
    if (!answer.ok) {
      outcomeArea.replaceChildren(problem(problemText(answer)));
      next.disabled = false;
      return;
    }
    form.remove();
    if (answer.body.outcome === "pending_approval") {
      outcomeArea.replaceChildren(el("p", { class: "notice", role: "status" },
        `Filed for approval as request #${answer.body.approval}: a second operator approves or rejects it.`),
        link(back, "Back to the profile"));
    } else {
      const c = answer.body.certificates;
      outcomeArea.replaceChildren(el("p", { class: "notice", role: "status" },
        `${process.title} applied (audit #${answer.body.audit.id}): ${c.revoked} revoked, ${c.held} put on hold, ${c.released} released.`),
        answer.body.crl_error ? problem(answer.body.crl_error) : null,
        link(back, "Back to the profile"));
    }
  } },
    el("div", { class: "field" }, el("label", { for: "reason" }, "Reason"), reasonSelect, reasonProblem),
    dateField, previewArea, el("div", { class: "actions" }, cancel, next));
  show(el("h1", {}, `${process.title}: ${target}`),
       el("p", {}, process.approval ? "This process needs a second operator's approval." : ""),
       el("div", { class: "panel" }, form), outcomeArea);
  reasonSelect.focus();
}

// ---- approvals ----

async function approvalsPage() {
  const answer = await api("GET", "/api/v1/approvals");
  if (!answer.ok) {
    show(el("h1", {}, "Approvals"), problem(problemText(answer)));
    return;
  }
  const list = el("div", { id: "approvals" });
  if (answer.body.length === 0) {
    list.append(el("p", {}, "No request is waiting."));
  }
  for (const request of answer.body) {
    const own = whoami && request.requested_by === whoami.subject;
    const note = el("input", { type: "text", id: `note-${request.id}`, name: "note" });
    const result = el("div", { "aria-live": "polite" });
    const preview = el("div", {});
    const decide = async (decision) => {
      const reply = await api("POST", `/api/v1/approvals/${request.id}/${decision}`,
                              note.value ? { note: note.value } : {});
      result.replaceChildren(reply.ok ? el("p", { class: "notice", role: "status" }, `Request #${request.id} ${decision === "approve" ? "approved" : "rejected"}.`)
                                      : problem(problemText(reply)));
    };
    const panel = el("div", { class: "panel", "data-approval": request.id },
      el("h2", {}, `#${request.id} ${processes[request.process] ? processes[request.process].title : request.process}: ${request.target}`),
      el("dl", { class: "facts" }, el("dt", {}, "Reason"), el("dd", {}, request.reason),
         el("dt", {}, "Requested by"), el("dd", {}, request.requested_by),
         el("dt", {}, "At"), el("dd", {}, request.requested_at)),
      preview,
      own ? el("p", { class: "own" }, "Your own request: another operator must decide it.")
          : el("div", {}, el("div", { class: "field" }, el("label", { for: `note-${request.id}` }, "Note (optional)"), note),
                        el("div", { class: "actions" },
                           el("button", { type: "button", class: "primary", "data-decision": "approve", onclick: () => decide("approve"),
                                          disabled: !permits(`approve:${request.process}`) }, "Approve"),
                           el("button", { type: "button", "data-decision": "reject", onclick: () => decide("reject"),
                                          disabled: !permits(`approve:${request.process}`) }, "Reject"))),
      result);
    list.append(panel);
    if (processes[request.process]) {
      api("POST", `${processPath(request.process, request.target)}?dry_run=true`,
          processBody(request.process, request.target, request.reason, request.invalidity_date)).then((dry) => {
        preview.replaceChildren(dry.ok ? previewView(dry.body) : problem(problemText(dry)));
      });
    }
  }
  show(el("h1", {}, "Approvals"), list);
}

// ---- jobs and status ----

let pollTimer = null;

function stopPolling() {
  if (pollTimer !== null) {
    clearTimeout(pollTimer);
    pollTimer = null;
  }
}

// Rate and time left from two looks at a job, a second apart.
const jobSeen = new Map();

function jobRow(job) {
  const now = Date.now();
  const seen = jobSeen.get(job.id);
  let rate = "";
  let eta = "";
  if (seen && job.status === "running" && now > seen.at && job.done > seen.done) {
    const perSecond = ((job.done - seen.done) * 1000) / (now - seen.at);
    rate = `${Math.round(perSecond)} targets/s`;
    eta = `${Math.ceil((job.total - job.done) / perSecond)} s`;
  }
  jobSeen.set(job.id, { at: now, done: job.done });
  const progress = el("progress", { max: String(Math.max(job.total, 1)), value: String(job.done),
                                    "aria-label": `job ${job.id} progress` });
  return el("tr", { "data-job": job.id },
    el("td", { "data-label": "#" }, String(job.id)),
    el("td", { "data-label": "Process" }, processes[job.process] ? processes[job.process].title : job.process),
    el("td", { "data-label": "Status" }, el("span", { class: "job-status" }, job.status)),
    el("td", { "data-label": "Progress" }, progress, ` ${job.done} of ${job.total}`),
    el("td", { "data-label": "Applied" }, String(job.applied)),
    el("td", { "data-label": "Failed" }, String(job.failed)),
    el("td", { "data-label": "Rate" }, rate || "—"),
    el("td", { "data-label": "Time left" }, eta || "—"),
    el("td", { "data-label": "Operator" }, job.operator),
    el("td", { "data-label": "Job stopped by" }, job.failure || ""));
}

async function jobsPage() {
  const answer = await api("GET", "/api/v1/jobs");
  if (!answer.ok) {
    show(el("h1", {}, "Batch jobs"), problem(problemText(answer)));
    return;
  }
  const jobs = answer.body.slice().reverse();  // newest first
  const table = jobs.length === 0 ? el("p", {}, "No batch job yet.") :
    el("div", { class: "table-wrap" }, el("table", { id: "jobs" },
      el("thead", {}, el("tr", {}, ["#", "Process", "Status", "Progress", "Applied", "Failed", "Rate", "Time left", "Operator", "Job stopped by"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, jobs.map(jobRow))));
  show(el("h1", {}, "Batch jobs"), table);
  if (jobs.some((job) => job.status === "running" || job.status === "pending")) {
    pollTimer = setTimeout(() => { if (location.hash.startsWith("#/jobs")) { route(); } }, 1000);
  }
}

async function statusPage() {
  const answer = await api("GET", "/api/v1/status");
  if (!answer.ok) {
    show(el("h1", {}, "Status"), problem(problemText(answer)));
    return;
  }
  const status = answer.body;
  const issuers = status.issuers.map((issuer) => {
    if (!issuer.crls) {
      return el("div", { class: "panel", "data-issuer": issuer.name }, el("h2", {}, issuer.name),
                el("p", {}, issuer.registered ? "No CRL is made for this issuer here." : "Not registered yet."));
    }
    const rows = issuer.crls.map((crl) => el("tr", {},
      el("td", { "data-label": "Shard" }, String(crl.shard)),
      el("td", { "data-label": "CRL number" }, crl.number ? String(crl.number) : "none yet"),
      el("td", { "data-label": "thisUpdate" }, crl.this_update || "—"),
      el("td", { "data-label": "nextUpdate" }, crl.next_update || "—"),
      el("td", { "data-label": "Delta" }, crl.delta_number ? `#${crl.delta_number} until ${crl.delta_next_update}` : "—"),
      el("td", { "data-label": "URL" }, crl.url || "—")));
    return el("div", { class: "panel", "data-issuer": issuer.name },
      el("h2", {}, `${issuer.name}: ${issuer.crl_shards} CRL shard${issuer.crl_shards === 1 ? "" : "s"}`),
      el("div", { class: "table-wrap" }, el("table", {},
        el("thead", {}, el("tr", {}, ["Shard", "CRL number", "thisUpdate", "nextUpdate", "Delta", "URL"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows))));
  });
  const ocsp = status.ocsp
    ? el("dl", { class: "facts", id: "ocsp-counters" },
         Object.entries(status.ocsp.responses).flatMap(([outcome, count]) => [el("dt", {}, outcome.replace(/_/g, " ")), el("dd", { "data-outcome": outcome }, String(count))]),
         el("dt", {}, "pre-signed"), el("dd", {}, String(status.ocsp.presigned)))
    : el("p", {}, "No OCSP responder runs in this process.");
  show(el("h1", {}, "Status"),
       el("div", { class: "panel" }, el("dl", { class: "facts" },
         el("dt", {}, "Certificates"), el("dd", { id: "certificate-count" }, String(status.certificates)),
         el("dt", {}, "Journal"), el("dd", {}, `${status.journal} status changes`))),
       el("h2", {}, "OCSP responses since start"), el("div", { class: "panel" }, ocsp),
       el("h2", {}, "CRLs"), ...issuers);
}

// ---- routing ----

async function route() {
  const hash = location.hash || "#/search";
  const [path, query] = hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter((p) => p !== "").map(decodeURIComponent);
  stopPolling();
  try {
    // Permissions are read again on every page: roles withdrawn a minute ago are not offered.
    if (!(await loadWhoami())) {
      return;
    }
    if (parts[0] === "user" && parts.length === 2) {
      await userPage(parts[1]);
    } else if (parts[0] === "process" && parts.length >= 3) {
      await processPage(parts[1], parts.slice(2).join("/"), params);
    } else if (parts[0] === "approvals") {
      await approvalsPage();
    } else if (parts[0] === "audit") {
      await auditPage(params);
    } else if (parts[0] === "jobs") {
      await jobsPage();
    } else if (parts[0] === "status") {
      await statusPage();
    } else {
      await searchPage(params);
    }
  } catch (error) {
    show(problem(`The console could not reach the operator API: ${error.message}`));
  }
}

async function loadWhoami() {
  const me = await api("GET", "/api/v1/whoami");
  if (!me.ok) {
    show(el("h1", {}, "Not signed in"), problem(problemText(me)));
    return false;
  }
  whoami = me.body;
  document.getElementById("operator").textContent = `${whoami.subject} (${whoami.roles.join(", ") || "no roles"})`;
  return true;
}

async function start() {
  if (!(await loadWhoami())) {
    return;
  }
  const listed = await api("GET", "/api/v1/processes");
  processes = listed.ok ? listed.body : {};
  window.addEventListener("hashchange", route);
  await route();
}

start();
