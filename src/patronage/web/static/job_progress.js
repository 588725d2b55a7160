/* The progress of a long operation: asks the server (same origin, same session) for the
   job's state every second or so and updates the bar; once the job has finished, reloads
   the page so the server shows the result. Progress lives in the database, so leaving
   the page or reloading it loses nothing. */
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.getAttribute("data-finished") === "true" || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("job-progress");
  var state = document.getElementById("job-state");
  var count = document.getElementById("job-count");
  var delay = 1000;

  function show(job) {
    if (job.percent === null) {
      bar.removeAttribute("value");
    } else {
      bar.value = job.percent;
    }
    state.textContent = job.status_label;
    state.className = "pill pill-" + job.status;
    count.textContent = job.label;
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
          window.location.reload();
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
})();
