/* The progress of long operations: every element with a data-status-url (a job's page,
   or a panel of the dashboard or the training report waiting for its background job)
   asks the server (same origin, same session) for its job's state every second or so
   and updates its bar, state and label (elements marked data-job-state, data-job-count,
   and its <progress>). Once every job on the page has finished, the page reloads so the
   server shows the results. Progress lives in the database, so leaving the page or
   reloading it loses nothing. */
(function () {
  "use strict";
  if (!window.fetch) {
    return;
  }
  var boxes = Array.prototype.filter.call(
    document.querySelectorAll("[data-status-url]"),
    function (box) {
      return box.getAttribute("data-finished") !== "true";
    }
  );
  var waiting = boxes.length;

  function finished() {
    waiting -= 1;
    if (waiting === 0) {
      window.location.reload();
    }
  }

  function watch(box) {
    var url = box.getAttribute("data-status-url");
    var bar = box.querySelector("progress");
    var state = box.querySelector("[data-job-state]");
    var count = box.querySelector("[data-job-count]");
    var delay = 1000;

    function show(job) {
      if (bar) {
        if (job.percent === null) {
          bar.removeAttribute("value");
        } else {
          bar.value = job.percent;
        }
      }
      if (state) {
        state.textContent = job.status_label;
        state.className = "pill pill-" + job.status;
      }
      if (count) {
        count.textContent = job.label;
      }
    }

    function poll() {
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.json();
        })
        .then(function (job) {
          show(job);
          if (job.finished) {
            box.setAttribute("data-finished", "true");
            finished();
          } else {
            delay = 1000;
            window.setTimeout(poll, delay);
          }
        })
        .catch(function () {
          delay = Math.min(delay * 2, 15000); /* the server is busy or restarting: back off */
          window.setTimeout(poll, delay);
        });
    }

    window.setTimeout(poll, delay);
  }

  boxes.forEach(watch);
})();
