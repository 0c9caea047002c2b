/* KissPoll widget, inside the host's iframe: tells the parent its height (a generic
   message, and WordPress's embed protocol when WordPress gave a secret), and refreshes
   the results every data-refresh seconds with a conditional GET (304 when unchanged). */
(function () {
  "use strict";
  var match = /[#&?]secret=([A-Za-z0-9]+)/.exec(location.hash);
  var secret = match && match[1];
  var page = location.href.split("#")[0];  // this widget's URL (round links load a new page)
  var lastHeight = 0;

  function postHeight(again) {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if ((height === lastHeight && again !== true) || window.parent === window) return;
    lastHeight = height;
    window.parent.postMessage({ type: "kisspoll:height", height: height, src: page }, "*");
    if (secret) window.parent.postMessage({ message: "height", value: height, secret: secret }, "*");
  }

  function refresh() {
    // "no-cache" revalidates the copy in the browser's cache (If-None-Match): a 304
    // costs the server almost nothing and hands back the same page.
    fetch(page, { cache: "no-cache", credentials: "omit" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (!text) return;
        var fresh = new DOMParser().parseFromString(text, "text/html").querySelector("main");
        var current = document.querySelector("main");
        if (fresh && current && fresh.innerHTML !== current.innerHTML) current.replaceWith(fresh);
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  function start() {
    postHeight();
    // A host script that loads after us asks again (its listener missed the first message):
    // embed.js with "kisspoll:ask-height", WordPress's wp-embed.js with "ready".
    window.addEventListener("message", function (event) {
      var data = event.data;
      if (event.source !== window.parent || !data) return;
      if (data.type === "kisspoll:ask-height" || (secret && data.message === "ready" && data.secret === secret)) postHeight(true);
    });
    if (window.ResizeObserver) new ResizeObserver(postHeight).observe(document.documentElement);
    window.addEventListener("load", postHeight);
    var seconds = parseInt(document.querySelector("main").getAttribute("data-refresh"), 10);
    if (seconds > 0) window.setInterval(refresh, seconds * 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
