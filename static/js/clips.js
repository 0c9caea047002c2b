// Click-to-load clip players (templates/public/_clip.html): nothing is fetched from the video
// site until the fan presses "Play the clip". Without this script the button stays hidden and
// the plain link opens the clip at the kiss instead.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button.play-clip[data-player-src]");

  function play(button) {
    var frame = document.createElement("iframe");
    frame.className = "clip-frame";
    frame.title = button.dataset.playerTitle;
    frame.setAttribute("allow", "autoplay; encrypted-media; picture-in-picture; fullscreen");
    frame.setAttribute("allowfullscreen", "");
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    frame.setAttribute("loading", "eager");
    frame.src = button.dataset.playerSrc;
    // The focused button goes away: keep the keyboard where the fan was, on the player.
    button.replaceWith(frame);
    frame.focus();
  }

  Array.prototype.forEach.call(buttons, function (button) {
    var note = button.closest(".clip").querySelector(".clip-start-note");
    if (note) note.hidden = true;  // the button already says where the kiss starts
    button.hidden = false;
    button.addEventListener("click", function () { play(button); });
  });
}());
