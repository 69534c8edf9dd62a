// ollama-gateway admin: forms and buttons that call the admin JSON API, the pull progress bar, and live tasks.
// Text from the server is only ever inserted with textContent, never as HTML.
"use strict";

(function () {
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  async function callApi(url, method, body) {
    const init = { method: method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const error = (data && data.error) || {};
      const problem = new Error(error.message || ("request failed with status " + response.status));
      problem.param = error.param || null;
      throw problem;
    }
    return data;
  }

  // Tables marked .cards become one labelled card per row on a phone: each cell carries its column's name.
  function labelCells(table) {
    const names = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
    for (const row of table.querySelectorAll("tbody tr")) {
      Array.from(row.children).forEach((cell, index) => {
        if (!cell.hasAttribute("data-label") && !cell.hasAttribute("colspan") && names[index]) {
          cell.setAttribute("data-label", names[index]);
        }
      });
    }
  }
  document.querySelectorAll("table.cards").forEach(labelCells);

  // Charts: the value under the pointer or the keyboard focus, in words, below the chart.
  for (const figure of document.querySelectorAll(".chart-card")) {
    const readout = figure.querySelector(".chart-readout");
    if (!readout) continue;
    const show = (event) => {
      const hit = event.target.closest && event.target.closest(".hit");
      if (hit) readout.textContent = hit.getAttribute("data-tip");
    };
    figure.addEventListener("mouseover", show);
    figure.addEventListener("focusin", show);
  }

  function say(target, text, kind) {
    if (!target) return;
    target.textContent = text;
    target.classList.toggle("error", kind === "error");
    target.classList.toggle("ok", kind === "ok");
  }

  function formBody(form) {
    const body = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.type === "submit" || el.type === "button") continue;
      if (el.hasAttribute("data-multi")) {
        if (!Array.isArray(body[el.name])) body[el.name] = [];
        if (el.checked) body[el.name].push(el.value);
      } else if (el.type === "checkbox") {
        body[el.name] = el.checked;
      } else if (el.type === "number" || el.hasAttribute("data-number")) {
        body[el.name] = el.value === "" ? null : Number(el.value);
      } else {
        body[el.name] = el.value;
      }
    }
    return body;
  }

  function markInvalid(form, param) {
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    if (!param) return;
    // A param naming no field of its own (e.g. "model.num_ctx" in a whole document) marks the form's main field.
    const field = form.elements.namedItem(String(param).split(".")[0]) || form.querySelector("[data-invalid-fallback]");
    if (field && field.setAttribute) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }

  // <form data-api=URL data-method=METHOD>: send the fields as JSON, show the outcome in .form-status.
  for (const form of document.querySelectorAll("form[data-api]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = form.querySelector(".form-status");
      const button = form.querySelector('[type="submit"]');
      if (button) button.disabled = true;
      say(status, "Working…");
      try {
        const data = await callApi(form.dataset.api, form.dataset.method || "POST", formBody(form));
        markInvalid(form, null);
        if (form.dataset.then === "show-secret") {
          showSecret(data.secret);
          form.reset();
          say(status, form.dataset.api.endsWith("/rotate") ? "Secret rotated." : "Key created.", "ok");
        } else if (form.dataset.success) {
          say(status, form.dataset.success, "ok");
          form.querySelectorAll('input[type="password"]').forEach((el) => { el.value = ""; });
        } else {
          say(status, "Saved.", "ok");
          window.location.reload();
        }
      } catch (problem) {
        say(status, problem.message, "error");
        markInvalid(form, problem.param);
      } finally {
        if (button) button.disabled = false;
      }
    });
  }

  function showSecret(secret) {
    const panel = document.getElementById("new-secret");
    const value = document.getElementById("secret-value");
    if (!panel || !value) return;
    value.textContent = secret;
    panel.hidden = false;
    panel.scrollIntoView({ block: "center" });
    const copy = panel.querySelector("[data-copy]");
    if (copy) copy.focus();
  }

  // <button data-action="api" data-url data-method [data-body] [data-confirm]>: call, then reload the page.
  for (const button of document.querySelectorAll('button[data-action="api"]')) {
    button.addEventListener("click", async () => {
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      const status = document.querySelector(".action-status");
      button.disabled = true;
      say(status, "Working…");
      try {
        const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
        await callApi(button.dataset.url, button.dataset.method || "POST", body);
        window.location.reload();
      } catch (problem) {
        say(status, problem.message, "error");
        button.disabled = false;
      }
    });
  }

  for (const button of document.querySelectorAll('button[data-action="reload"]')) {
    button.addEventListener("click", () => window.location.reload());
  }

  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = document.querySelector(button.dataset.copy);
      const status = button.parentElement.querySelector(".copy-status");
      try {
        await navigator.clipboard.writeText(source.textContent);
        say(status, "Copied.", "ok");
      } catch (e) {
        const range = document.createRange();
        range.selectNodeContents(source);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        say(status, "Selected: press Ctrl+C to copy.");
      }
    });
  }

  // Settings: test the Ollama URL typed in the field.
  for (const button of document.querySelectorAll("button[data-test-ollama]")) {
    button.addEventListener("click", async () => {
      const input = document.querySelector(button.dataset.testOllama);
      const status = document.getElementById("test-status");
      say(status, "Testing…");
      try {
        const result = await callApi("/admin/api/settings/test", "POST", { ollama_url: input.value });
        if (result.ok) say(status, "Connected: Ollama " + result.version + " at " + result.url, "ok");
        else say(status, "Cannot connect: " + result.error, "error");
      } catch (problem) {
        say(status, problem.message, "error");
      }
    });
  }

  // Models: pull with a progress bar fed by the NDJSON stream of /admin/api/models/pull.
  const pullForm = document.querySelector("form[data-pull]");
  if (pullForm) {
    pullForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const bar = document.getElementById("pull-bar");
      const percent = document.getElementById("pull-percent");
      const status = document.getElementById("pull-status");
      const button = pullForm.querySelector('[type="submit"]');
      const model = pullForm.elements.namedItem("model").value.trim();
      const hostField = pullForm.elements.namedItem("host");
      const host = hostField && hostField.value ? hostField.value : null;
      bar.closest(".pull-progress").hidden = false;
      bar.value = 0;
      percent.textContent = "0%";
      button.disabled = true;
      say(status, "Starting pull of " + model + "…");
      let succeeded = false;
      const show = (event) => {
        const where = event.host ? event.host + ": " : "";
        if (event.error) { say(status, "Pull failed: " + where + event.error, "error"); return; }
        if (typeof event.percent === "number") {
          bar.value = event.percent;
          percent.textContent = Math.floor(event.percent) + "%";
        }
        if (event.status === "success") {
          succeeded = true;
          bar.value = 100;
          percent.textContent = "100%";
          say(status, "Pulled " + model + ".", "ok");
        } else if (event.status) {
          say(status, where + event.status);
        }
      };
      try {
        const response = await fetch(pullForm.dataset.pull, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify(host ? { model: model, host: host } : { model: model }),
        });
        if (!response.ok) {
          let message = "status " + response.status;
          try { message = (await response.json()).error.message; } catch (e) { /* keep the status */ }
          throw new Error(message);
        }
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffered = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffered += decoder.decode(value, { stream: true });
          let newline;
          while ((newline = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (line) show(JSON.parse(line));
          }
        }
        if (buffered.trim()) show(JSON.parse(buffered));
        if (succeeded) {
          const again = document.createElement("button");
          again.type = "button";
          again.className = "secondary";
          again.textContent = "Show it in the catalog";
          again.addEventListener("click", () => window.location.reload());
          status.append(" ", again);
        }
      } catch (problem) {
        say(status, "Pull failed: " + problem.message, "error");
      } finally {
        button.disabled = false;
      }
    });
  }

  // Tasks: refresh the table every few seconds from the admin API.
  const taskTable = document.querySelector("table[data-poll]");
  if (taskTable) {
    const body = document.getElementById("tasks-body");
    const updated = document.getElementById("tasks-updated");
    const cell = (row, text, className) => {
      const td = document.createElement("td");
      if (className) {
        const span = document.createElement(className === "code" ? "code" : "span");
        if (className !== "code") span.className = className;
        span.textContent = text;
        td.append(span);
      } else {
        td.textContent = text;
      }
      row.append(td);
    };
    const stamp = (seconds) => new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19);
    const poll = async () => {
      try {
        const data = await callApi(taskTable.dataset.poll, "GET");
        const rows = data.tasks.map((task) => {
          const row = document.createElement("tr");
          cell(row, task.task_id, "code");
          cell(row, task.state, "badge state-" + String(task.state).toLowerCase());
          cell(row, task.stage);
          cell(row, task.message);
          cell(row, (task.extensions && task.extensions.key_id) || "—");
          cell(row, stamp(task.timestamp));
          return row;
        });
        if (!rows.length) {
          const row = document.createElement("tr");
          row.className = "empty";
          cell(row, "No recent tasks.");
          row.firstChild.colSpan = 6;
          rows.push(row);
        }
        body.replaceChildren(...rows);
        labelCells(taskTable);
        say(updated, "Updated " + new Date().toLocaleTimeString() + "; refreshes every 3 s.");
      } catch (problem) {
        say(updated, "Could not refresh: " + problem.message, "error");
      }
    };
    window.setInterval(poll, 3000);
  }
})();
