// Livery staff UI enhancements. Every page works without this script:
// it adds the live chrome preview, upload progress and thumbnails.
(function () {
  "use strict";
  // Copy buttons (access keys): shown only when the clipboard can be used.
  var copies = document.querySelectorAll("button[data-copy]");
  for (var c = 0; c < copies.length; c++) {
    if (!navigator.clipboard) break;
    copies[c].hidden = false;
    copies[c].addEventListener("click", function (e) {
      var el = document.getElementById(e.currentTarget.getAttribute("data-copy"));
      var out = document.getElementById("copy-status");
      navigator.clipboard.writeText(el.textContent).then(function () {
        if (out) out.textContent = out.getAttribute("data-done") || "Copied.";
      }, function () {
        if (out) out.textContent = out.getAttribute("data-failed") || "Copy failed: select the text and copy it.";
      });
    });
  }
})();
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview-form]");
  if (!form) return;
  var buttons = form.querySelectorAll("button[data-preview]");
  var timer = null;
  // One frame at a time: a form's next submission cancels the previous
  // one while its navigation is still only planned, so the next preview
  // is sent when the frame before it has loaded.
  function refresh() {
    var i = 0;
    (function next() {
      if (i >= buttons.length || !form.requestSubmit) return;
      var b = buttons[i++];
      var frame = document.querySelector('iframe[name="' + b.getAttribute("formtarget") + '"]');
      if (frame) frame.addEventListener("load", next, { once: true });
      // requestSubmit with the submitter uses its formaction/formtarget.
      form.requestSubmit(b);
      if (!frame) next();
    })();
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 600);
  }
  form.addEventListener("input", function (e) {
    if (e.target.type !== "file") later();
  });
  form.addEventListener("change", function (e) {
    if (e.target.type === "file") thumb(e.target); else later();
  });
  function thumb(input) {
    var id = input.getAttribute("data-preview");
    var el = id && document.getElementById(id);
    if (!el || !input.files || !input.files[0]) return;
    var img = document.createElement("img");
    img.alt = input.labels && input.labels[0] ? input.labels[0].textContent : "";
    img.id = id;
    img.src = URL.createObjectURL(input.files[0]);
    el.replaceWith(img);
  }
  // Saving with files: show the upload's progress.
  var progress = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (e) {
    var sub = e.submitter;
    if (sub && sub.hasAttribute("data-preview")) return;
    var files = form.querySelectorAll("input[type=file]");
    var any = false;
    for (var i = 0; i < files.length; i++) if (files[i].files && files[i].files.length) any = true;
    if (!any || !window.XMLHttpRequest || !progress) return;
    e.preventDefault();
    var data = new FormData(form);
    if (sub && sub.name) data.append(sub.name, sub.value);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    progress.hidden = false;
    xhr.upload.addEventListener("progress", function (ev) {
      if (ev.lengthComputable) {
        var p = Math.round(ev.loaded * 100 / ev.total);
        progress.value = p;
        progress.textContent = p + "%";
        status.textContent = p + "%";
      }
    });
    xhr.addEventListener("load", function () {
      if (xhr.responseURL && xhr.responseURL.split("#")[0] !== form.action) {
        location.assign(xhr.responseURL);
        return;
      }
      document.open();
      document.write(xhr.responseText);
      document.close();
    });
    xhr.addEventListener("error", function () {
      progress.hidden = true;
      status.textContent = status.getAttribute("data-failed") || "Upload failed.";
    });
    xhr.send(data);
  });
})();
