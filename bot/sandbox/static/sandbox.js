// The sandbox page: act as a seeded person, read what the bot posted, click, watch Salesforce.
"use strict";

(function () {
  const BK = window.BlockKit;
  const $ = (selector) => document.querySelector(selector);
  const POLL_MS = 1000;
  const FAST_MS = 250;
  const page = {
    user: localStorage.getItem("airlock.sandbox.user") || "U0MAYA",
    people: {},
    peopleList: [],
    tab: "messages",
    side: "salesforce",
    item: null,
    seen: {},
    fastUntil: 0,
    messageCount: 0,
  };

  async function api(path, body) {
    const init = body === undefined ? {} : {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    };
    const response = await fetch(`/sandbox/api/${path}`, init);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || `HTTP ${response.status}`);
    return data;
  }

  // Re-render a part only when its data changed, so inputs and scroll positions survive polls.
  function changed(key, value) {
    const json = JSON.stringify(value);
    if (page.seen[key] === json) return false;
    page.seen[key] = json;
    return true;
  }

  function el(tag, className, html) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (html !== undefined) node.innerHTML = html;
    return node;
  }

  function toast(text, kind) {
    const node = el("div", `toast ${kind || ""}`, BK.mrkdwn(text, page.people));
    $("#toasts").appendChild(node);
    setTimeout(() => node.remove(), 6000);
  }

  function hurry() {
    page.fastUntil = Date.now() + 4000;
    refresh();
  }

  function roleText(person) {
    return person.roles.join(" · ");
  }

  // --- who am I -------------------------------------------------------------------------------
  function renderPeople() {
    const list = $("#people");
    list.innerHTML = "";
    for (const person of page.peopleList) {
      const item = el("button", `person ${person.id === page.user ? "active" : ""}`);
      item.type = "button";
      item.dataset.user = person.id;
      item.innerHTML = `<span class="avatar">${BK.esc(person.name[0])}</span>
        <span class="person-text"><span class="person-name">${BK.esc(person.name)}</span>
        <span class="person-role">${BK.esc(roleText(person))} · ${BK.esc(person.title)}</span></span>`;
      item.addEventListener("click", () => selectUser(person.id));
      list.appendChild(item);
    }
    const me = page.people[page.user];
    $("#whoami").textContent = me ? `${me.name} (${roleText(me)})` : page.user;
  }

  function selectUser(id) {
    page.user = id;
    localStorage.setItem("airlock.sandbox.user", id);
    page.seen = {};
    page.messageCount = 0;
    window.SandboxModal.reset();
    $("#command-answer").hidden = true;
    renderPeople();
    if (page.tab === "home") openHome();
    hurry();
  }

  // --- agent samples --------------------------------------------------------------------------
  function renderSamples(samples) {
    const box = $("#samples");
    for (const sample of samples) {
      const who = sample.reviewer ? page.people[sample.reviewer].name : "nobody";
      const button = el("button", "sample", `<span class="sample-label">${BK.esc(sample.label)}</span>
        <span class="sample-hint">→ ${BK.esc(who)} (${BK.esc(sample.why)})</span>`);
      button.type = "button";
      button.dataset.sample = sample.name;
      button.addEventListener("click", () => submitSample(sample, button));
      box.appendChild(button);
    }
  }

  async function submitSample(sample, button) {
    button.disabled = true;
    try {
      const result = await api("items", { sample: sample.name });
      const body = result.answer;
      if (result.status >= 300) {
        toast(`Intake refused (${result.status}): ${body.detail || body.title}`, "error");
      } else {
        page.item = body.id;
        toast(`Agent submitted \`${body.id}\`: *${body.status}*, gate ${body.gate}, level ${body.level}`);
      }
    } catch (error) {
      toast(String(error), "error");
    } finally {
      button.disabled = false;
      hurry();
    }
  }

  // --- Slack: messages, Home, buttons ---------------------------------------------------------
  function when(ts) {
    return new Date(parseFloat(ts) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function renderMessages(messages) {
    if (!changed("messages", messages)) return;
    const pane = $("#messages");
    const nearBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 80;
    pane.innerHTML = "";
    if (!messages.length) {
      pane.appendChild(el("div", "empty", `No messages for ${BK.esc(page.people[page.user]?.name || page.user)} yet.
        Submit an item on the left: its card lands in the reviewer's DMs.`));
    }
    for (const message of messages) pane.appendChild(messageNode(message));
    if (nearBottom || messages.length > page.messageCount) pane.scrollTop = pane.scrollHeight;
    page.messageCount = messages.length;
  }

  function messageNode(message) {
    const node = el("article", `message ${message.ephemeral ? "ephemeral" : ""}`);
    node.dataset.ts = message.ts;
    const edited = message.edits ? ` <span class="edited">(edited)</span>` : "";
    node.appendChild(el("div", "avatar bot", "A"));
    const body = el("div", "message-body");
    body.appendChild(el("div", "message-meta",
      `<strong>Airlock</strong> <span class="app-badge">APP</span> <span class="time">${when(message.ts)}</span>${edited}`));
    const ctx = { people: page.people, onAction: (elem, button) => click(elem, button, message) };
    if (message.blocks.length) body.appendChild(BK.renderBlocks(message.blocks, ctx));
    else body.appendChild(el("div", "bk-text", BK.mrkdwn(message.text, page.people)));
    if (message.ephemeral) body.appendChild(el("div", "only-you", "👁 Only visible to you"));
    node.appendChild(body);
    return node;
  }

  // A button with a `confirm` object: Slack shows this dialog and sends the click only on Confirm
  // (https://docs.slack.dev/reference/block-kit/composition-objects/confirmation-dialog-object).
  function confirmFirst(confirm) {
    return new Promise((resolve) => {
      const backdrop = el("div", "modal-backdrop confirm-backdrop");
      const box = el("div", "modal confirm-dialog");
      box.setAttribute("role", "dialog");
      box.appendChild(el("header", "modal-head", `<h2>${BK.textHtml(confirm.title, page.people)}</h2>`));
      box.appendChild(el("div", "modal-body", BK.textHtml(confirm.text, page.people)));
      const foot = el("footer", "modal-foot");
      const answer = (yes) => { backdrop.remove(); resolve(yes); };
      for (const [label, yes, css] of [[confirm.deny, false, "bk-button"], [confirm.confirm, true, "bk-button bk-primary"]]) {
        const node = el("button", css, BK.textHtml(label || { type: "plain_text", text: yes ? "Yes" : "Cancel" }));
        node.type = "button";
        node.addEventListener("click", () => answer(yes));
        foot.appendChild(node);
      }
      box.appendChild(foot);
      backdrop.appendChild(box);
      document.body.appendChild(backdrop);
    });
  }

  async function click(elem, button, message) {
    if (!elem.action_id || elem.url) return;
    if (elem.confirm && !(await confirmFirst(elem.confirm))) return;
    button.disabled = true;
    const where = message ? { channel: message.channel, ts: message.ts } : { home: true };
    try {
      const result = await api("click", { user: page.user, action_id: elem.action_id, value: elem.value || "", kind: elem.type, ...where });
      if (result.status !== 200) toast(`Slack answered ${result.status}`, "error");
    } catch (error) {
      toast(String(error), "error");
    } finally {
      button.disabled = false;
      hurry();
    }
  }

  function renderHome(home) {
    if (!changed("home", home)) return;
    const pane = $("#home");
    pane.innerHTML = "";
    if (!home) {
      pane.appendChild(el("div", "empty", "Opening Home…"));
      return;
    }
    const ctx = { people: page.people, onAction: (elem, button) => click(elem, button, null) };
    pane.appendChild(BK.renderBlocks(home.blocks, ctx));
  }

  async function openHome() {
    try {
      await api("home", { user: page.user });
    } catch (error) {
      toast(String(error), "error");
    }
    hurry();
  }

  function showTab(tab) {
    page.tab = tab;
    for (const button of document.querySelectorAll(".slack .tab")) {
      button.classList.toggle("active", button.dataset.tab === tab);
    }
    $("#messages").hidden = tab !== "messages";
    $("#home").hidden = tab !== "home";
    if (tab === "home") openHome();
  }

  // --- /airlock ---------------------------------------------------------------------------------
  async function runCommand(event) {
    event.preventDefault();
    const input = $("#command");
    // People type the command as they would in Slack; the box already says /airlock.
    const text = input.value.trim().replace(/^\/airlock(\s+|$)/, "");
    const box = $("#command-answer");
    try {
      const result = await api("command", { user: page.user, text });
      const answer = result.answer;
      const scope = answer.response_type === "in_channel" ? "posted in the channel" : "only visible to you";
      box.innerHTML = "";
      const echo = el("div", "command-echo", `<code>/airlock ${BK.esc(text)}</code> · ${scope}`);
      const dismiss = el("button", "dismiss", "✕");
      dismiss.type = "button";
      dismiss.title = "Dismiss";
      dismiss.addEventListener("click", () => { box.hidden = true; });
      echo.appendChild(dismiss);
      box.appendChild(echo);
      if (answer.blocks) box.appendChild(BK.renderBlocks(answer.blocks, { people: page.people }));
      box.appendChild(el("div", "bk-text", BK.mrkdwn(answer.text || "(no answer)", page.people)));
      box.hidden = false;
    } catch (error) {
      toast(String(error), "error");
    }
    hurry();
  }

  // --- the rest of the page -------------------------------------------------------------------
  async function refresh() {
    const query = new URLSearchParams({ user: page.user });
    if (page.item) query.set("item", page.item);
    try {
      const data = await api(`state?${query}`);
      renderMessages(data.person.messages);
      renderHome(data.person.home);
      window.SandboxModal.render(data.person.modal);
      window.SandboxPanels.render(page, data, changed);
      $("#status").textContent = "live";
      $("#status").className = "status ok";
    } catch (error) {
      $("#status").textContent = "server unreachable";
      $("#status").className = "status down";
    }
  }

  function loop() {
    refresh().finally(() => setTimeout(loop, Date.now() < page.fastUntil ? FAST_MS : POLL_MS));
  }

  async function start() {
    const boot = await api("boot");
    page.peopleList = boot.people;
    for (const person of boot.people) page.people[person.id] = person;
    if (!page.people[page.user]) page.user = boot.people[0].id;
    renderPeople();
    renderSamples(boot.samples);
    for (const button of document.querySelectorAll(".slack .tab")) {
      button.addEventListener("click", () => showTab(button.dataset.tab));
    }
    $("#command-form").addEventListener("submit", runCommand);
    window.SandboxPanels.init(page, { api, toast, hurry });
    window.SandboxModal.init(page, { api, toast, hurry });
    loop();
  }

  window.addEventListener("DOMContentLoaded", start);
})();
