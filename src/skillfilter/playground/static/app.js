// skillfilter playground: sends the filter text to the local server and shows its answers.
// Everything from the server or the records is put on the page as text (textContent), never as markup.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const editor = $("editor");
  const backdrop = $("backdrop");
  const list = $("completions");
  const entitySelect = $("entity");
  const statusLine = $("status");
  const diagList = $("diagnostics");
  const partsBox = $("parts");
  const template = $("part-template");

  let analyzeSeq = 0;
  let completeSeq = 0;
  let timer = null;
  let items = [];
  let active = -1;
  let lastDiagnostics = [];

  function el(tag, props, text) {
    const node = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (k === "class") node.className = v; else node.setAttribute(k, v);
      }
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function post(path, body) {
    const res = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await res.json();
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  }

  // ---------------------------------------------------------------- underlines
  function renderBackdrop(text, diagnostics) {
    backdrop.replaceChildren();
    const spans = [];
    for (const d of diagnostics) {
      let s = Math.max(0, Math.min(d.start, text.length));
      let e = Math.max(s, Math.min(d.end, text.length));
      if (e === s && s < text.length) e = s + 1;
      spans.push([s, e, d]);
    }
    spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let pos = 0;
    for (const [s0, e, d] of spans) {
      const s = Math.max(s0, pos);
      if (e < s || (e === s && s < text.length)) continue;
      if (s > pos) backdrop.append(document.createTextNode(text.slice(pos, s)));
      const mark = el("mark", { "data-code": d.code, title: d.code + " " + d.message });
      if (e === s) { mark.className = "empty"; mark.textContent = " "; }
      else mark.textContent = text.slice(s, e);
      backdrop.append(mark);
      pos = Math.max(pos, e);
    }
    backdrop.append(document.createTextNode(text.slice(pos) + "\n"));
    backdrop.scrollTop = editor.scrollTop;
  }

  function lineCol(text, offset) {
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    const col = offset - before.lastIndexOf("\n");
    return [line, col];
  }

  function renderDiagnostics(text, diagnostics, parts) {
    diagList.replaceChildren();
    if (!diagnostics.length) {
      const li = el("li", { class: "ok" });
      li.append(el("span", { class: "marker", "aria-hidden": "true" }, "✔"));
      li.append(el("span", null, parts.length ? "No problems: the filter is valid." : "Type a filter."));
      diagList.append(li);
      return;
    }
    for (const d of diagnostics) {
      const li = el("li", { class: "diagnostic", "data-code": d.code, "data-start": d.start, "data-end": d.end });
      li.append(el("span", { class: "marker" }, d.severity === "warning" ? "⚠ Warning" : "✖ Error"));
      li.append(el("span", { class: "code" }, d.code));
      li.append(el("span", { class: "message" }, d.message));
      const [line, col] = lineCol(text, d.start);
      const shown = text.slice(d.start, d.end);
      li.append(el("span", { class: "where" }, "at " + line + ":" + col + (shown ? " “" + shown + "”" : "")));
      if (d.hint) li.append(el("span", { class: "hint" }, "Hint: " + d.hint));
      diagList.append(li);
    }
  }

  // ---------------------------------------------------------------- outputs
  function renderPart(part, multiple) {
    const node = template.content.firstElementChild.cloneNode(true);
    node.dataset.entity = part.entity;
    node.querySelector(".part-title").textContent = multiple ? "$" + part.entity : "Results";
    if (!part.valid) {
      node.querySelector(".grid").replaceChildren(el("p", null, "Fix the problems above to see the results."));
      return node;
    }
    node.querySelector(".canonical").textContent = part.canonical;
    node.querySelector(".pretty").textContent = part.pretty;
    node.querySelector(".json").textContent = part.json;
    const ops = part.logical_operators;
    const opsLine = node.querySelector(".ops");
    opsLine.textContent = ops.count + " of at most " + ops.cap + " logical operators";
    const splitList = node.querySelector(".split");
    if (ops.over) {
      opsLine.append(el("span", { class: "over" }, " — over the API's cap (⚠)"));
      if (part.split && part.split.requests) {
        opsLine.append(document.createTextNode("; split into " + part.split.requests.length + " API requests:"));
        for (const r of part.split.requests) splitList.append(el("li", null, r));
      } else if (part.split) {
        opsLine.append(el("span", { class: "error-text" }, "; cannot be split: " + part.split.error));
      }
    }
    const sqlBox = node.querySelector(".sql");
    for (const s of part.sql || []) {
      sqlBox.append(el("h4", null, s.dialect));
      if (s.error) { sqlBox.append(el("p", { class: "error-text" }, s.error)); continue; }
      sqlBox.append(el("pre", { class: "sql-text", "data-dialect": s.dialect }, s.sql));
      sqlBox.append(el("pre", { class: "sql-params" }, "parameters: " + s.params));
    }
    const recBox = node.querySelector(".records-box");
    if (!part.records) {
      recBox.replaceChildren(el("h3", null, "Matching records"),
        el("p", null, "The loaded records are of another entity."));
      return node;
    }
    const r = part.records;
    const count = node.querySelector(".count");
    count.append(el("strong", { class: "match-count" }, r.count));
    count.append(document.createTextNode(" of " + r.total + " records match" +
      (r.count > r.shown.length ? "; the first " + r.shown.length + " are shown." : ".")));
    const holder = node.querySelector(".records");
    for (const text of r.shown) holder.append(el("pre", { class: "record" }, text));
    return node;
  }

  function render(data) {
    lastDiagnostics = data.diagnostics;
    renderBackdrop(editor.value, data.diagnostics);
    renderDiagnostics(editor.value, data.diagnostics, data.parts);
    partsBox.replaceChildren(...data.parts.map((p) => renderPart(p, data.parts.length > 1 || p.entity !== entitySelect.value)));
    const n = data.diagnostics.length;
    statusLine.textContent = (n ? n + (n === 1 ? " problem" : " problems") : (data.parts.length ? "valid" : "empty")) +
      " · server " + data.elapsed_ms.toFixed(1) + " ms" + (data.cached ? " (answer cached)" : "");
    document.body.dataset.state = n ? "invalid" : "valid";
    diagList.dataset.text = editor.value;  // what the page shows was made for this text (tests wait on it)
  }

  async function analyze() {
    const seq = ++analyzeSeq;
    const text = editor.value;
    try {
      const data = await post("/api/analyze", { text, entity: entitySelect.value });
      if (seq === analyzeSeq && text === editor.value) render(data);
    } catch (err) {
      if (seq === analyzeSeq) statusLine.textContent = "error: " + err.message;
    }
    if (seq === analyzeSeq) document.body.dataset.analyzed = String(seq);
  }

  function schedule() {
    clearTimeout(timer);
    renderBackdrop(editor.value, []);
    timer = setTimeout(analyze, 80);
  }

  // ---------------------------------------------------------------- completion
  function closeList() {
    items = [];
    active = -1;
    list.hidden = true;
    list.replaceChildren();
    editor.setAttribute("aria-expanded", "false");
    editor.removeAttribute("aria-activedescendant");
  }

  function highlight(i) {
    active = i;
    list.querySelectorAll("li").forEach((li, j) => li.setAttribute("aria-selected", j === i ? "true" : "false"));
    const li = list.children[i];
    if (li) { editor.setAttribute("aria-activedescendant", li.id); li.scrollIntoView({ block: "nearest" }); }
  }

  function showList(found) {
    items = found;
    list.replaceChildren();
    if (!found.length) { closeList(); return; }
    found.forEach((c, i) => {
      const li = el("li", { id: "completion-" + i, role: "option", "aria-selected": "false", "data-kind": c.kind });
      li.append(el("span", { class: "label" }, c.label));
      li.append(el("span", { class: "detail" }, c.kind + (c.detail ? " · " + c.detail : "")));
      li.addEventListener("mousedown", (ev) => { ev.preventDefault(); accept(i); });
      list.append(li);
    });
    list.hidden = false;
    editor.setAttribute("aria-expanded", "true");
    highlight(0);
  }

  async function complete() {
    const seq = ++completeSeq;
    const text = editor.value;
    const cursor = editor.selectionStart;
    try {
      const data = await post("/api/complete", { text, cursor, entity: entitySelect.value });
      if (seq !== completeSeq || text !== editor.value) return;
      showList(data.completions);
      list.dataset.text = text;  // what the list was made for (tests wait on it)
    } catch (err) {
      closeList();
    }
  }

  function accept(i) {
    const c = items[i];
    if (!c) return;
    const text = editor.value;
    editor.value = text.slice(0, c.start) + c.insert + text.slice(c.end);
    const at = c.start + c.insert.length;
    editor.setSelectionRange(at, at);
    closeList();
    editor.focus();
    schedule();
    if (c.kind === "relation") complete();
  }

  editor.addEventListener("input", (ev) => {
    schedule();
    const typed = ev.data || "";
    if (ev.inputType && ev.inputType.startsWith("delete")) { if (!list.hidden) complete(); return; }
    if (/^[A-Za-z0-9_]$/.test(typed) || !list.hidden) complete();
    else closeList();
  });

  editor.addEventListener("keydown", (ev) => {
    if (ev.key === " " && ev.ctrlKey) { ev.preventDefault(); complete(); return; }
    if (list.hidden || !items.length) return;
    if (ev.key === "ArrowDown") { ev.preventDefault(); highlight((active + 1) % items.length); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); highlight((active - 1 + items.length) % items.length); }
    else if (ev.key === "Enter" || ev.key === "Tab") { ev.preventDefault(); accept(active < 0 ? 0 : active); }
    else if (ev.key === "Escape") { ev.preventDefault(); closeList(); }
  });

  editor.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== editor) closeList(); }, 150));
  editor.addEventListener("scroll", () => { backdrop.scrollTop = editor.scrollTop; });
  entitySelect.addEventListener("change", () => { closeList(); analyze(); });

  // ---------------------------------------------------------------- start
  fetch("/api/info").then((r) => r.json()).then((info) => {
    for (const name of info.entities) {
      const opt = el("option", { value: name }, name);
      if (name === info.entity) opt.selected = true;
      entitySelect.append(opt);
    }
    $("info").textContent = "Schema: " + info.schema + " · entity: " + info.entity + " · " + info.records +
      " records" + (info.source ? " from " + info.source : "") + " · the API's cap: " + info.cap + " logical operators";
    editor.maxLength = info.max_text;
    if (!editor.value) editor.value = "skill_clusters__current_skills__name='Python'";
    document.body.dataset.ready = "true";
    analyze();
  });
})();
