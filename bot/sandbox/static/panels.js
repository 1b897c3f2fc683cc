// Side panels of the sandbox page: the Salesforce stand-in, the audit trail, workflow states.
"use strict";

(function () {
  const BK = window.BlockKit;
  const $ = (selector) => document.querySelector(selector);
  const EDITABLE = ["StageName", "NextStep", "Amount", "CloseDate"];
  let tools = null;
  let page = null;

  function el(tag, className, html) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (html !== undefined) node.innerHTML = html;
    return node;
  }

  function badge(text, kind) {
    return `<span class="badge ${kind || BK.esc(text)}">${BK.esc(text)}</span>`;
  }

  function value(v) {
    if (v === null || v === undefined || v === "") return "<span class=\"muted\">(empty)</span>";
    if (typeof v === "number") return BK.esc(v.toLocaleString());
    return BK.esc(v);
  }

  function name(id) {
    if (!id) return "nobody";
    return (page.people[id] && page.people[id].name) || id;
  }

  // --- Salesforce ---------------------------------------------------------------------------------
  function renderWrites(writes) {
    const box = $("#sf-writes");
    box.innerHTML = "";
    if (!writes.length) {
      box.appendChild(el("div", "empty", "Nothing written yet. Approve or edit a card that changes a record."));
      return;
    }
    for (const write of writes) {
      const fields = Object.entries(write.fields)
        .map(([field, v]) => `<li><code>${BK.esc(field)}</code> = <strong>${value(v)}</strong></li>`).join("");
      const verb = write.method === "POST" ? "created" : "updated";
      box.appendChild(el("div", "sf-write",
        `<div class="sf-write-head">${badge(verb, write.method === "POST" ? "created" : "updated")}
         <strong>${BK.esc(write.sobject)}</strong> ${BK.esc(write.name)} <code class="muted">${BK.esc(write.id)}</code></div>
         <ul>${fields}</ul>`));
    }
  }

  function renderOpportunities(opportunities) {
    const rows = opportunities.map((o) => {
      const touched = o.LastModifiedDate !== o.CreatedDate ? "touched" : "";
      return `<tr class="${touched}"><td>${BK.esc(o.Name)}</td><td>${BK.esc(o.Owner)}</td>
        <td>${value(o.StageName)}</td><td class="num">${value(o.Amount)}</td>
        <td>${value(o.CloseDate)}</td><td>${value(o.NextStep)}</td></tr>`;
    }).join("");
    $("#sf-opps").innerHTML = `<table><thead><tr><th>Opportunity</th><th>Owner</th><th>Stage</th>
      <th>Amount</th><th>Close</th><th>Next step</th></tr></thead><tbody>${rows}</tbody></table>`;
    const select = $("#sf-edit-record");
    if (!select.options.length) {
      for (const o of opportunities) select.appendChild(new Option(o.Name, o.Id));
    }
  }

  function renderTasks(tasks) {
    const box = $("#sf-tasks");
    box.innerHTML = tasks.length ? "" : `<div class="empty">No tasks created yet.</div>`;
    for (const task of tasks) {
      box.appendChild(el("div", "sf-task",
        `✅ <strong>${BK.esc(task.Subject)}</strong> · due ${value(task.ActivityDate)} · ${value(task.Status)}
         <div class="muted">${value(task.Description)}</div>`));
    }
  }

  function renderCalls(calls) {
    $("#sf-calls").innerHTML = calls.map((c) => `<div class="sf-call">
      <span class="method">${BK.esc(c.method)}</span> <span class="http-status s${String(c.status)[0]}">${c.status}</span>
      <code>${BK.esc(c.soql || c.path)}</code></div>`).join("") || `<div class="empty">No calls yet.</div>`;
  }

  function renderSalesforce(sf, changed) {
    $("#sf-missing").hidden = Boolean(sf);
    $("#sf-panel").hidden = !sf;
    if (!sf) return;
    if (changed("sf-writes", sf.writes)) renderWrites(sf.writes);
    if (changed("sf-opps", sf.opportunities)) renderOpportunities(sf.opportunities);
    if (changed("sf-tasks", sf.tasks)) renderTasks(sf.tasks);
    if (changed("sf-calls", sf.calls)) renderCalls(sf.calls);
  }

  async function editRecord(event) {
    event.preventDefault();
    const body = { id: $("#sf-edit-record").value, field: $("#sf-edit-field").value, value: $("#sf-edit-value").value };
    try {
      await tools.api("salesforce/edit", body);
      tools.toast(`Changed *${body.field}* in Salesforce, as a person would: approving an item that saw the old value now reports a conflict.`);
    } catch (error) {
      tools.toast(String(error), "error");
    }
    tools.hurry();
  }

  // --- audit trail --------------------------------------------------------------------------------
  function renderItems(items) {
    const list = $("#items");
    list.innerHTML = items.length ? "" : `<div class="empty">No items yet.</div>`;
    for (const item of items) {
      const row = el("button", `item-row ${item.id === page.item ? "active" : ""}`,
        `<span class="item-title">${BK.esc(item.title)}</span>
         <span class="item-meta">${BK.esc(item.workflow)} · ${badge(item.status)}
         ${item.writeback_state !== "none" ? badge("SF " + item.writeback_state, item.writeback_state) : ""}
         · ${BK.esc(name(item.assignee))}</span>`);
      row.type = "button";
      row.dataset.item = item.id;
      row.addEventListener("click", () => {
        page.item = item.id;
        page.seen.items = null;
        tools.hurry();
      });
      list.appendChild(row);
    }
  }

  // Short data inline; long data (check results, raw hashes) folded behind its first line.
  function eventData(data) {
    if (!data || !Object.keys(data).length) return "";
    const line = JSON.stringify(data);
    if (line.length <= 140) return `<code class="event-data">${BK.esc(line)}</code>`;
    return `<details><summary><code>${BK.esc(line.slice(0, 120))}…</code></summary>
      <code class="event-data">${BK.esc(JSON.stringify(data, null, 2))}</code></details>`;
  }

  function renderTrace(trace) {
    const box = $("#trace");
    if (!trace) {
      box.innerHTML = `<div class="empty">Pick an item to see its audit trail.</div>`;
      return;
    }
    const decision = trace.decision ? `<p>Decided by <strong>${BK.esc(name(trace.decision.by))}</strong> at ${BK.esc(new Date(trace.decision.at).toLocaleString())}</p>` : "";
    const checks = trace.checks.map((c) => badge(`${c.name} ${c.passed ? "ok" : "failed"}`, c.passed ? "ok" : "failed")).join(" ");
    const events = trace.trace.map((e) => `<li><div class="event-head"><span class="seq">#${e.seq}</span>
      <strong>${BK.esc(e.type)}</strong> <span class="actor">${BK.esc(e.actor)}</span>
      <span class="time">${BK.esc(new Date(e.at).toLocaleTimeString())}</span></div>
      ${eventData(e.data)}</li>`).join("");
    box.innerHTML = `<h3>${BK.esc(trace.title)}</h3>
      <p class="muted"><code>${BK.esc(trace.id)}</code> · ${BK.esc(trace.workflow)} · agent ${BK.esc(trace.agent)}</p>
      <p>${badge(trace.kind, "neutral")} ${badge(trace.level, "neutral")} ${badge("gate " + trace.gate, "neutral")}
         ${badge(trace.status)} ${badge(trace.authority)}
         ${trace.writeback_state !== "none" ? badge("Salesforce " + trace.writeback_state, trace.writeback_state) : ""}</p>
      ${decision}<p>Checks: ${checks || "none"}</p>
      <ol class="timeline">${events}</ol>`;
  }

  // --- workflows ----------------------------------------------------------------------------------
  function renderWorkflows(workflows) {
    $("#workflows").innerHTML = workflows.map((w) => `<li>
      <span class="dot ${w.paused ? "paused" : "active"}"></span>
      <span class="wf-name">${BK.esc(w.name)}</span>
      <span class="wf-meta"><code>${BK.esc(w.id)}</code> · ${w.paused ? "paused" : "active"} · ${w.pending} pending${w.held ? ` · ${w.held} held` : ""}</span>
    </li>`).join("");
  }

  function showSide(side) {
    page.side = side;
    for (const button of document.querySelectorAll(".side .tab")) {
      button.classList.toggle("active", button.dataset.tab === side);
    }
    $("#salesforce").hidden = side !== "salesforce";
    $("#audit").hidden = side !== "audit";
  }

  function render(currentPage, data, changed) {
    page = currentPage;
    renderSalesforce(data.salesforce, changed);
    if (changed("items", [data.items, page.item])) renderItems(data.items);
    if (changed("trace", data.trace)) renderTrace(data.trace);
    if (changed("workflows", data.workflows)) renderWorkflows(data.workflows);
  }

  function init(currentPage, pageTools) {
    page = currentPage;
    tools = pageTools;
    for (const field of EDITABLE) $("#sf-edit-field").appendChild(new Option(field, field));
    $("#sf-edit").addEventListener("submit", editRecord);
    for (const button of document.querySelectorAll(".side .tab")) {
      button.addEventListener("click", () => showSide(button.dataset.tab));
    }
  }

  window.SandboxPanels = { init, render };
})();
