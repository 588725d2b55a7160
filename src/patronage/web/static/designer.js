/* Program designer: CEL expressions checked on the server as they are typed, and the
   progress of long operations. Same-origin requests only, no library. Every form also
   works without this script: the server checks the expression again when it is saved. */
(() => {
  "use strict";
  const DELAY_MS = 300;

  const csrfToken = (element) => {
    const form = element.form || document.querySelector("form");
    const input = form && form.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  };

  /* The result under the textarea: "valid", or the problem with its line and column and
     the offending line with a caret under the column. */
  const show = (box, area, result) => {
    box.textContent = "";
    box.classList.remove("ok", "error");
    if (!result) {
      area.removeAttribute("aria-invalid");
      return;
    }
    if (result.valid) {
      box.classList.add("ok");
      box.textContent = result.text;
      area.setAttribute("aria-invalid", "false");
      return;
    }
    box.classList.add("error");
    area.setAttribute("aria-invalid", "true");
    const message = document.createElement("span");
    message.className = "cel-message";
    message.textContent = result.text;
    box.appendChild(message);
    const line = area.value.split("\n")[result.line - 1];
    if (line !== undefined) {
      const pointer = document.createElement("pre");
      pointer.setAttribute("aria-hidden", "true");
      const caret = " ".repeat(Math.max(0, result.column - 1)) + "^";
      pointer.textContent = line.replace(/\t/g, " ") + "\n" + caret;
      box.appendChild(pointer);
    }
  };

  const check = (area) => {
    const box = document.getElementById(area.id + "-error");
    if (!box) {
      return;
    }
    const sequence = (Number(area.dataset.sequence) || 0) + 1;
    area.dataset.sequence = String(sequence);
    if (!area.value.trim()) {
      show(box, area, null);
      return;
    }
    fetch("/designer/check-expression", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": csrfToken(area),
      },
      body: JSON.stringify({ expression: area.value, kind: area.dataset.cel }),
    })
      .then((response) => (response.ok ? response.json() : null))
      .then((result) => {
        if (result && String(sequence) === area.dataset.sequence) {
          show(box, area, result);
        }
      })
      .catch(() => {
        /* offline or signed out: the server checks again when the form is saved */
      });
  };

  const watch = (area) => {
    let timer = 0;
    area.addEventListener("input", () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => check(area), DELAY_MS);
    });
    if (area.getAttribute("aria-invalid") === "true" && area.value.trim()) {
      check(area);
    }
  };

  /* A long operation's page: poll its job's progress; when it ends, load the page again
     (it then shows the result or the error). */
  const follow = (panel) => {
    const url = panel.getAttribute("data-progress-url");
    const bar = panel.querySelector("progress");
    const text = panel.querySelector('[role="status"]');
    const step = () => {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .then((progress) => {
          if (!progress) {
            return;
          }
          if (progress.total) {
            bar.max = progress.total;
            text.textContent = progress.text;
          }
          bar.value = progress.done;
          if (progress.finished) {
            window.location.reload();
          } else {
            window.setTimeout(step, 1000);
          }
        })
        .catch(() => window.setTimeout(step, 3000));
    };
    window.setTimeout(step, 500);
  };

  document.querySelectorAll("textarea[data-cel]").forEach(watch);
  document.querySelectorAll("[data-progress-url]").forEach(follow);
  const summary = document.getElementById("form-error");
  if (summary) {
    summary.focus();
  }
})();
