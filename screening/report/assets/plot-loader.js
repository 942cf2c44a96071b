/* magnetscreen report: unpack the embedded plotly.js and draw the figures; no network.
 * plotly.js sits in <script id="plotly-gzip"> as base64 of its gzip bytes. The standard DecompressionStream
 * inflates it, a global eval defines window.Plotly, then each deferred figure script
 * (type "text/x-magnetscreen-plot") is run in page order. A browser without DecompressionStream gets a note
 * in every plot box instead of a blank. */
(function () {
  "use strict";

  function figures() {
    return Array.prototype.slice.call(document.querySelectorAll('script[type="text/x-magnetscreen-plot"]'));
  }

  function fail(message) {
    figures().forEach(function (script) {
      var note = document.createElement("p");
      note.className = "note plot-error";
      note.textContent = message;
      script.parentNode.insertBefore(note, script);
    });
  }

  var packed = document.getElementById("plotly-gzip");
  if (!packed) { return; }
  if (typeof DecompressionStream === "undefined") {
    fail("Plots not shown: this browser cannot unpack the embedded plotting library (it lacks " +
         "DecompressionStream; any current Chrome, Edge, Firefox or Safari has it).");
    return;
  }
  var binary = atob(packed.textContent.trim());
  var bytes = new Uint8Array(binary.length);
  for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  new Response(stream).text().then(function (source) {
    (0, eval)(source);
    figures().forEach(function (script) { (0, eval)(script.textContent); });
  }).catch(function (error) {
    fail("Plots not shown: the embedded plotting library could not be unpacked (" + error + ").");
  });
})();
