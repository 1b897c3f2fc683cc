// Modals the bot opened with views.open: rendered once per view version, submitted as Slack would.
"use strict";

(function () {
  const BK = window.BlockKit;
  const $ = (selector) => document.querySelector(selector);
  let page = null;
  let tools = null;
  let shownKey = null;

  function el(tag, className, html) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (html !== undefined) node.innerHTML = html;
    return node;
  }

  function button(label, className, onClick) {
    const node = el("button", className, BK.textHtml(label));
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  // Only a new view (id or hash) is drawn: re-drawing on every poll would wipe what was typed.
  function render(modal) {
    const key = modal ? `${modal.id}:${modal.hash}` : null;
    if (key === shownKey) return;
    shownKey = key;
    if (!modal) {
      hide();
      return;
    }
    const box = $("#modal");
    box.innerHTML = "";
    const head = el("header", "modal-head", `<h2>${BK.textHtml(modal.title, page.people)}</h2>`);
    head.appendChild(button({ type: "plain_text", text: "✕" }, "modal-x", () => close(modal)));
    const body = el("form", "modal-body");
    body.appendChild(BK.renderBlocks(modal.blocks, { people: page.people }));
    body.addEventListener("submit", (event) => {
      event.preventDefault();
      submit(modal, body);
    });
    box.append(head, body, footer(modal, body));
    $("#modal-backdrop").hidden = false;
    const first = box.querySelector(".bk-input");
    if (first) first.focus();
  }

  function footer(modal, body) {
    const foot = el("footer", "modal-foot");
    const cancel = modal.close || { type: "plain_text", text: "Cancel" };
    foot.appendChild(button(cancel, "bk-button", () => close(modal)));
    if (modal.submit) {
      foot.appendChild(button(modal.submit, "bk-button bk-primary modal-submit", () => submit(modal, body)));
    }
    return foot;
  }

  // Slack keeps the modal open and shows `response_action: errors` under the inputs named.
  async function submit(modal, body) {
    const values = BK.readInputs(body);
    try {
      const result = await tools.api("submit", { user: page.user, view_id: modal.id, values });
      if (result.answer.response_action === "errors") {
        BK.showErrors(body, result.answer.errors);
        return;
      }
      if (result.status !== 200) {
        tools.toast(`Slack answered ${result.status}`, "error");
        return;
      }
      hide();
    } catch (error) {
      tools.toast(String(error), "error");
    }
    tools.hurry();
  }

  async function close(modal) {
    hide();
    await tools.api("close", { user: page.user, view_id: modal.id }).catch(() => null);
    tools.hurry();
  }

  function hide() {
    $("#modal-backdrop").hidden = true;
    $("#modal").innerHTML = "";
  }

  function reset() {
    shownKey = null;
    hide();
  }

  function init(currentPage, pageTools) {
    page = currentPage;
    tools = pageTools;
  }

  window.SandboxModal = { init, render, reset };
})();
