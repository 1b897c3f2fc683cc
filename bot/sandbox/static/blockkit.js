// Block Kit and mrkdwn rendered as HTML: just enough of Slack to read and click what Airlock posts.
"use strict";

(function () {
  const EMOJI = {
    warning: "⚠️", no_entry: "⛔", alarm_clock: "⏰", zzz: "💤", no_entry_sign: "🚫", hourglass_flowing_sand: "⏳",
    large_green_circle: "🟢", red_circle: "🔴", double_vertical_bar: "⏸️", bell: "🔔",
    white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", pencil2: "✏️", memo: "📝",
    rotating_light: "🚨", lock: "🔒", unlock: "🔓", mag: "🔍", information_source: "ℹ️",
    arrow_right: "➡️", link: "🔗", robot_face: "🤖", stopwatch: "⏱️", tada: "🎉",
    octagonal_sign: "🛑", inbox_tray: "📥", outbox_tray: "📤", chart_with_upwards_trend: "📈",
  };

  function esc(text) {
    return String(text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  // Slack escapes &, < and > in message text; its own markup uses the bare characters.
  function unentity(text) {
    return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function emoji(html) {
    return html.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
  }

  function personName(id, people) {
    if (id === "U0AIRLOCK") return "Airlock";
    return (people && people[id] && people[id].name) || id;
  }

  function special(inner, people) {
    const [target, label] = splitOnce(inner, "|");
    if (/^@[UW]/.test(target)) {
      return `<span class="bk-mention">@${esc(label || personName(target.slice(1), people))}</span>`;
    }
    if (target.startsWith("#C")) {
      return `<span class="bk-mention">#${esc(label || target.slice(1))}</span>`;
    }
    if (target.startsWith("!")) {
      const word = label || target.slice(1).split("^")[0];
      return `<span class="bk-mention">@${esc(word)}</span>`;
    }
    const url = unentity(target);
    const text = esc(unentity(label || target));
    if (!/^(https?:|mailto:)/i.test(url)) return text;
    return `<a href="${esc(url)}" target="_blank" rel="noopener noreferrer">${text}</a>`;
  }

  function splitOnce(text, sep) {
    const at = text.indexOf(sep);
    return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
  }

  function inline(html) {
    return html
      .replace(/(^|[^\w*])\*(?!\s)([^*\n]+?)\*(?!\w)/g, "$1<strong>$2</strong>")
      .replace(/(^|[^\w])_(?!\s)([^_\n]+?)_(?!\w)/g, "$1<em>$2</em>")
      .replace(/(^|[^\w~])~(?!\s)([^~\n]+?)~(?!\w)/g, "$1<del>$2</del>");
  }

  function quotes(html) {
    const out = [];
    let quoted = [];
    const flush = () => {
      if (quoted.length) out.push(`<blockquote>${quoted.join("<br>")}</blockquote>`);
      quoted = [];
    };
    for (const line of html.split("\n")) {
      const match = /^&gt;\s?(.*)$/.exec(line);
      if (match) {
        quoted.push(match[1]);
      } else {
        flush();
        out.push(line + "<br>");
      }
    }
    flush();
    return out.join("").replace(/<br>$/, "");
  }

  // Slack mrkdwn to HTML. Code and <...> markup are set aside first so nothing inside them is
  // styled, then everything else is escaped before any tag is added.
  function mrkdwn(text, people) {
    const slots = [];
    const keep = (html) => `\u0000${slots.push(html) - 1}\u0000`;
    let s = String(text || "");
    s = s.replace(/```([\s\S]*?)```/g, (_, code) => keep(`<pre>${esc(unentity(code))}</pre>`));
    s = s.replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${esc(unentity(code))}</code>`));
    s = s.replace(/<([^<>\n]+)>/g, (_, inner) => keep(special(inner, people)));
    s = quotes(inline(emoji(esc(unentity(s)))));
    return s.replace(/\u0000(\d+)\u0000/g, (_, n) => slots[Number(n)]);
  }

  function textHtml(obj, people) {
    if (!obj) return "";
    if (obj.type === "mrkdwn") return mrkdwn(obj.text, people);
    return emoji(esc(obj.text || "")).replace(/\n/g, "<br>");
  }

  function el(tag, className, html) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (html !== undefined) node.innerHTML = html;
    return node;
  }

  function button(element, ctx) {
    const node = el("button", `bk-button ${element.style ? "bk-" + element.style : ""}`,
      textHtml(element.text, ctx.people));
    node.type = "button";
    node.dataset.actionId = element.action_id || "";
    node.dataset.value = element.value || "";
    node.addEventListener("click", () => {
      if (element.url) window.open(element.url, "_blank", "noopener");
      if (ctx.onAction) ctx.onAction(element, node);
    });
    return node;
  }

  function element(elem, ctx) {
    if (elem.type === "button") return button(elem, ctx);
    if (elem.type === "static_select") return selectAction(elem, ctx);
    if (elem.type === "image") return el("span", "bk-image", `🖼 ${esc(elem.alt_text || "image")}`);
    if (elem.type === "mrkdwn" || elem.type === "plain_text") {
      return el("span", "bk-context-text", textHtml(elem, ctx.people));
    }
    return el("span", "bk-unknown", `[${esc(elem.type)}]`);
  }

  // A select in an actions block (the card's Snooze menu): picking an option is the action.
  function selectAction(elem, ctx) {
    const node = el("select", "bk-select-action");
    node.appendChild(new Option(elem.placeholder ? elem.placeholder.text : "Choose…", ""));
    for (const option of elem.options || []) node.appendChild(new Option(option.text.text, option.value));
    node.dataset.actionId = elem.action_id || "";
    node.addEventListener("change", () => {
      if (!node.value) return;
      if (ctx.onAction) ctx.onAction({ ...elem, value: node.value }, node);
      node.value = "";
    });
    return node;
  }

  function checkboxes(elem) {
    const node = el("div", "bk-checkboxes");
    const ticked = new Set((elem.initial_options || []).map((o) => o.value));
    for (const option of elem.options || []) {
      const row = el("label", "bk-checkbox");
      const box = el("input");
      box.type = "checkbox";
      box.value = option.value;
      box.checked = ticked.has(option.value);
      row.appendChild(box);
      row.appendChild(el("span", "", esc(option.text.text)));
      node.appendChild(row);
    }
    return node;
  }

  function section(block, ctx) {
    const node = el("div", "bk-section");
    const body = el("div", "bk-section-body");
    if (block.text) body.appendChild(el("div", "bk-text", textHtml(block.text, ctx.people)));
    if (block.fields) {
      const grid = el("div", "bk-fields");
      for (const field of block.fields) grid.appendChild(el("div", "bk-field", textHtml(field, ctx.people)));
      body.appendChild(grid);
    }
    node.appendChild(body);
    if (block.accessory) {
      const side = el("div", "bk-accessory");
      side.appendChild(element(block.accessory, ctx));
      node.appendChild(side);
    }
    return node;
  }

  function block(b, ctx) {
    switch (b.type) {
      case "header":
        return el("div", "bk-header", textHtml(b.text, ctx.people));
      case "section":
        return section(b, ctx);
      case "divider":
        return el("hr", "bk-divider");
      case "context": {
        const node = el("div", "bk-context");
        for (const part of b.elements || []) node.appendChild(element(part, ctx));
        return node;
      }
      case "actions": {
        const node = el("div", "bk-actions");
        for (const part of b.elements || []) node.appendChild(element(part, ctx));
        return node;
      }
      case "input":
        return input(b, ctx);
      case "image":
        return el("div", "bk-image", `🖼 ${esc(b.alt_text || "image")}`);
      default:
        return el("div", "bk-unknown", `[${esc(b.type)} block]`);
    }
  }

  function renderBlocks(blocks, ctx) {
    const node = el("div", "bk-blocks");
    for (const b of blocks || []) {
      const child = block(b, ctx || {});
      if (b.block_id) child.dataset.blockId = b.block_id;
      node.appendChild(child);
    }
    return node;
  }

  function control(elem) {
    let node;
    if (elem.type === "static_select") {
      node = el("select", "bk-input");
      node.appendChild(new Option("Choose an option…", ""));
      const groups = elem.option_groups || [{ options: elem.options || [] }];
      for (const group of groups) {
        for (const option of group.options) node.appendChild(new Option(option.text.text, option.value));
      }
      node.value = elem.initial_option ? elem.initial_option.value : "";
    } else if (elem.type === "plain_text_input") {
      node = el(elem.multiline ? "textarea" : "input", "bk-input");
      if (!elem.multiline) node.type = "text";
      if (elem.multiline) node.rows = 4;
      node.value = elem.initial_value || "";
      if (elem.max_length) node.maxLength = elem.max_length;
    } else if (elem.type === "number_input") {
      node = el("input", "bk-input");
      node.type = "number";
      node.step = elem.is_decimal_allowed ? "any" : "1";
      node.value = elem.initial_value || "";
    } else if (elem.type === "checkboxes") {
      node = checkboxes(elem);
    } else if (elem.type === "datepicker") {
      node = el("input", "bk-input");
      node.type = "date";
      node.value = elem.initial_date || "";
    } else {
      return el("div", "bk-unknown", `[${esc(elem.type)} input]`);
    }
    if (elem.placeholder) node.placeholder = elem.placeholder.text;
    node.dataset.actionId = elem.action_id || "";
    node.dataset.type = elem.type;
    return node;
  }

  function input(b, ctx) {
    const node = el("div", "bk-input-block");
    const label = el("label", "bk-label", textHtml(b.label, ctx.people));
    if (b.optional) label.appendChild(el("span", "bk-optional", " (optional)"));
    node.appendChild(label);
    const field = control(b.element || {});
    const id = `bk-${(b.block_id || "").replace(/[^\w-]/g, "_")}`;
    field.id = id;
    label.htmlFor = id;
    node.appendChild(field);
    if (b.hint) node.appendChild(el("div", "bk-hint", textHtml(b.hint, ctx.people)));
    node.appendChild(el("div", "bk-error"));
    return node;
  }

  // {block_id: {action_id, type, value}} for every input in a rendered modal.
  function readInputs(container) {
    const values = {};
    for (const blockNode of container.querySelectorAll(".bk-input-block")) {
      const field = blockNode.querySelector("[data-type]");
      const blockId = blockNode.dataset.blockId;
      if (!field || !blockId) continue;
      values[blockId] = { action_id: field.dataset.actionId, type: field.dataset.type, value: field.value || null };
      if (field.dataset.type === "checkboxes") {
        values[blockId].value = null;
        values[blockId].selected = [...field.querySelectorAll("input:checked")].map((box) => box.value);
      }
    }
    return values;
  }

  function showErrors(container, errors) {
    for (const blockNode of container.querySelectorAll(".bk-input-block")) {
      const message = (errors || {})[blockNode.dataset.blockId] || "";
      blockNode.classList.toggle("bk-has-error", Boolean(message));
      blockNode.querySelector(".bk-error").textContent = message;
    }
  }

  window.BlockKit = { esc, mrkdwn, textHtml, renderBlocks, readInputs, showErrors };
})();
