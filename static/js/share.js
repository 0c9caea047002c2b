/* Host's "Share & embed" panel: options apply as soon as they change (the form also
   works without JavaScript), and every snippet gets a Copy button. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-share]");
  if (!form) return;
  form.addEventListener("change", function () { form.requestSubmit(); });
  document.querySelectorAll("[data-copy]").forEach(function (field) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy " + (field.labels && field.labels[0] ? field.labels[0].textContent : "snippet"));
    button.addEventListener("click", function () {
      field.select();
      var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
      else { document.execCommand("copy"); done(); }
    });
    field.insertAdjacentElement("afterend", button);
  });
})();
