/* Optional script for pages that embed KissPoll widgets: sizes each widget iframe to
   its content, so it never shows an inner scroll bar. Add once per page:
   <script async src="https://YOUR-KISSPOLL/static/js/embed.js"></script> */
(function () {
  "use strict";
  if (window.kissPollEmbed) return;
  window.kissPollEmbed = true;
  // Only widget frames of the site this script came from: other frames (ads...) may
  // post the same message, and must not resize themselves through us.
  var script = document.currentScript;
  var widgets = (script ? new URL(script.src, location.href).origin : location.origin) + "/embed/";
  function widgetFrames() {
    return Array.prototype.filter.call(document.getElementsByTagName("iframe"), function (frame) {
      return (frame.src || "").indexOf(widgets) === 0;
    });
  }
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.type !== "kisspoll:height") return;
    var height = parseInt(data.height, 10);
    if (!(height > 0 && height < 5000)) return;
    // A sandboxed widget's origin is opaque ("null"): find its iframe by window instead.
    widgetFrames().forEach(function (frame) {
      if (frame.contentWindow === event.source) {
        frame.height = String(height);
        frame.style.height = height + "px";
      }
    });
  });
  // Widgets that loaded before this script told nobody their height: ask them again.
  widgetFrames().forEach(function (frame) {
    if (frame.contentWindow) frame.contentWindow.postMessage({ type: "kisspoll:ask-height" }, "*");
  });
})();
