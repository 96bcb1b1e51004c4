// cfsign-mock console: reads /_cfsign/state, /_cfsign/requests and /_cfsign/verify.
// Every value from the mock is written with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

async function getJson(url) {
  const r = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error ? body.error.message : "HTTP " + r.status);
  return body;
}

function badge(decision) {
  return el("span", { class: "badge " + decision, text: decision });
}

// ---- Requests ---------------------------------------------------------------------------

let lastTopId = null;

async function loadRequests() {
  const params = new URLSearchParams({ limit: "200" });
  for (const id of ["f-distribution", "f-decision", "f-status"]) {
    const v = $(id).value.trim();
    if (v) params.set($(id).name, v);
  }
  let data;
  try {
    data = await getJson("/_cfsign/requests?" + params);
  } catch (e) {
    $("log-status").textContent = "Could not load the log: " + e.message;
    return;
  }
  const rows = data.requests;
  const tbody = $("log").querySelector("tbody");
  tbody.replaceChildren(...rows.map((r) => {
    const request = el("td", null,
      el("span", { class: "url", text: r.method + " " + r.url }),
      el("span", { class: "dist", text: r.distribution_id + " · " + r.domain_name + (r.cookies ? " · signed cookies" : "") }));
    const why = el("td", null);
    if (r.code) why.append(el("span", { class: "code", text: r.code + ": " }));
    why.append(r.explanation);
    const tr = el("tr", { class: r.decision, "data-id": r.id },
      el("td", null, el("time", { datetime: r.time, text: r.time.replace("T", " ").replace("Z", "") })),
      el("td", null, badge(r.decision)),
      el("td", { text: r.status }),
      request,
      el("td", { text: r.behaviour || "" }),
      why);
    return tr;
  }));
  $("log-empty").hidden = rows.length > 0;
  const top = rows.length ? rows[0].id : null;
  if (top !== lastTopId) {
    $("log-status").textContent = rows.length + " request" + (rows.length === 1 ? "" : "s") + " shown";
    lastTopId = top;
  }
}

// ---- State: distributions, key groups, public keys --------------------------------------

async function loadState() {
  let s;
  try {
    s = await getJson("/_cfsign/state");
  } catch (e) {
    $("dist-list").replaceChildren(el("p", { class: "empty", text: "Could not load: " + e.message }));
    return;
  }
  $("now").textContent = s.now;
  $("now").setAttribute("datetime", s.now);
  const select = $("f-distribution");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "", text: "All" }),
    ...s.distributions.map((d) => el("option", { value: d.id, text: d.id + " (" + d.domain_name + ")" })));
  select.value = chosen;

  const groupName = (id) => { const g = s.key_groups.find((g) => g.id === id); return g ? g.name : id + " (missing)"; };
  const list = $("dist-list");
  if (!s.distributions.length) {
    list.replaceChildren(el("p", { class: "empty", text: "No distributions yet." }));
  } else {
    list.replaceChildren(...s.distributions.map((d) => {
      const behaviours = el("table", null,
        el("thead", null, el("tr", null,
          el("th", { scope: "col", text: "Order" }), el("th", { scope: "col", text: "Path pattern" }),
          el("th", { scope: "col", text: "Access" }), el("th", { scope: "col", text: "Trusted key groups" }),
          el("th", { scope: "col", text: "Origin" }))),
        el("tbody", null, ...d.behaviors.map((b, i) => el("tr", null,
          el("td", { text: String(i + 1) }),
          el("td", { class: "url", text: b.path_pattern + (b.default ? " (default)" : "") }),
          el("td", null, badge(b.restricted ? "restricted" : "public"), b.restricted ? " signed URL or cookies" : " no signature"),
          el("td", { text: (b.trusted_key_groups.map(groupName).join(", ") || "—") + (b.legacy_trusted_signers ? " + legacy trusted signers" : "") }),
          el("td", { class: "url", text: b.target_origin_id + " → " + ((d.origins.find((o) => o.id === b.target_origin_id) || {}).domain_name || "missing") })))));
      return el("article", { class: "dist-card" },
        el("h3", null, d.id + " ", el("span", { class: "hint", text: d.domain_name + (d.enabled ? "" : " · DISABLED") })),
        d.edge_url ? el("p", null, "Edge: ", el("a", { href: d.edge_url, class: "url", text: d.edge_url })) : null,
        el("div", { class: "table-wrap" }, behaviours));
    }));
  }
  $("groups").querySelector("tbody").replaceChildren(...s.key_groups.map((g) => el("tr", null,
    el("td", { text: g.name }), el("td", { class: "url", text: g.id }), el("td", { class: "url", text: g.public_keys.join(", ") }))));
  $("pubkeys").querySelector("tbody").replaceChildren(...s.public_keys.map((k) => el("tr", null,
    el("td", { text: k.name }), el("td", { class: "url", text: k.id }), el("td", { text: k.algorithm }), el("td", { class: "nowrap", text: k.created.replace("T", " ").replace(/\.\d+Z$/, "") }))));
}

// ---- Verify -----------------------------------------------------------------------------

async function verify(event) {
  event.preventDefault();
  const out = $("verify-result");
  const params = new URLSearchParams({ url: $("v-url").value.trim() });
  const cookie = $("v-cookie").value.trim();
  if (cookie) params.set("cookie", cookie);
  let v;
  try {
    v = await getJson("/_cfsign/verify?" + params);
  } catch (e) {
    out.replaceChildren(el("div", { class: "result error", role: "alert" }, el("strong", { text: "Cannot verify: " }), e.message));
    return;
  }
  const i = v.inspection || {};
  const rows = [
    ["Decision", badge(v.decision)],
    ["CloudFront code", v.code],
    ["Why", v.explanation],
    ["Distribution", v.distribution_id + " (" + v.domain_name + ")"],
    ["Cache behaviour", v.behavior],
    ["Path", v.path],
    ["Mock time", v.now],
    ["Signature from", i.source],
    ["Key-Pair-Id", i.key_pair_id],
    ["Policy", i.policy + (i.hash_algorithm ? ", " + i.hash_algorithm : "")],
    ["Valid from", i.starts],
    ["Expires", i.expires],
    ["Notes", (v.notes || []).concat(v.undocumented || []).concat(i.problems || []).join("; ")],
  ];
  const dl = el("dl");
  for (const [k, val] of rows) {
    if (val === null || val === undefined || val === "") continue;
    dl.append(el("dt", { text: k }), el("dd", null, val));
  }
  if (i.policy_json) dl.append(el("dt", { text: "Policy document" }), el("dd", null, el("pre", { text: prettyJson(i.policy_json) })));
  out.replaceChildren(el("div", { class: "result " + v.decision, id: "verify-outcome" },
    el("strong", { text: v.decision === "granted" || v.decision === "public" ? "The edge would serve this." : "The edge would refuse this." }), dl));
}

function prettyJson(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return text; }
}

// ---- Wiring -----------------------------------------------------------------------------

let timer = null;
function schedule() {
  clearInterval(timer);
  if ($("f-live").checked) timer = setInterval(() => { loadRequests(); }, 2000);
}

$("filters").addEventListener("submit", (e) => { e.preventDefault(); loadRequests(); });
for (const id of ["f-distribution", "f-decision"]) $(id).addEventListener("change", loadRequests);
$("f-status").addEventListener("input", loadRequests);
$("f-live").addEventListener("change", schedule);
$("refresh").addEventListener("click", () => { loadState(); loadRequests(); });
$("verify-form").addEventListener("submit", verify);

loadState().then(loadRequests);
setInterval(loadState, 10000);
schedule();
