// The ballot, enhanced: rank scenes by tapping them, by dragging (touch or mouse) or with the
// keyboard, all editing one ordered list per ballot box; review it; cast it. The rank selects
// of the plain form stay the ballot's state, so the form (and its no-JavaScript review page)
// works the same without this script. Also remembers which spoilers this browser opened.
(function () {
  "use strict";

  function toArray(list) { return Array.prototype.slice.call(list); }

  // --- Spoilers: folded in <details>; the ones this browser opened stay open. -------------
  var SPOILERS_KEY = "kisspoll:shown-spoilers";
  function shownSpoilers() {
    try { return JSON.parse(window.localStorage.getItem(SPOILERS_KEY)) || []; } catch (e) { return []; }
  }
  toArray(document.querySelectorAll("details.spoiler[data-spoiler]")).forEach(function (details) {
    var id = details.dataset.spoiler;
    if (shownSpoilers().indexOf(id) >= 0) details.open = true;
    details.addEventListener("toggle", function () {
      var shown = shownSpoilers().filter(function (other) { return other !== id; });
      if (details.open) shown.push(id);
      try { window.localStorage.setItem(SPOILERS_KEY, JSON.stringify(shown)); } catch (e) { /* private mode: this visit only */ }
    });
  });

  var form = document.getElementById("ballot");
  if (!form) return;
  var text = JSON.parse(document.getElementById("ballot-text").textContent);
  var errorBox = document.getElementById("ballot-error");
  var live = document.getElementById("ballot-live");
  var review = document.getElementById("ballot-review");

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) { return key in values ? values[key] : whole; });
  }
  function announce(message) {
    // Cleared first so that the same words twice ("moved to #1") are read twice.
    live.textContent = "";
    window.setTimeout(function () { live.textContent = message; }, 30);
  }
  function showError(message) {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  }
  function button(className, label, content) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = className;
    element.setAttribute("aria-label", label);
    element.textContent = content;
    return element;
  }

  // One ranked list: a poll's scenes, or one category's.
  function RankingBox(root) {
    var max = parseInt(root.dataset.max, 10);
    var cards = toArray(root.querySelectorAll(".candidate"));
    var panel = root.querySelector(".my-ranking");
    var list = panel.querySelector(".ranking-list");
    var counter = panel.querySelector(".ranking-count");
    var items = new Map();
    var toggles = new Map();

    function select(card) { return card.querySelector("select"); }
    function titleOf(card) {
      var details = card.querySelector("details.spoiler");
      return details && !details.open ? card.dataset.hiddenTitle : card.dataset.title;
    }
    // The order the selects hold (the plain form's state, e.g. after a refused post).
    var order = cards
      .filter(function (card) { return select(card).value !== ""; })
      .sort(function (a, b) { return select(a).value - select(b).value; });

    function item(card) {
      if (items.has(card)) return items.get(card);
      var li = document.createElement("li");
      li.className = "ranking-item";
      var handle = document.createElement("span");
      handle.className = "drag-handle";
      handle.textContent = "⠿";
      handle.title = text.drag;
      handle.setAttribute("aria-hidden", "true");
      handle.addEventListener("pointerdown", function (event) { startDrag(event, card, li); });
      var number = document.createElement("span");
      number.className = "rank-number";
      var name = document.createElement("span");
      name.className = "ranking-title";
      var buttons = document.createElement("span");
      buttons.className = "ranking-buttons";
      var up = button("move-up", "", "↑");
      var down = button("move-down", "", "↓");
      var remove = button("remove", "", "✕");
      up.addEventListener("click", function () { moveBy(card, -1, up, down); });
      down.addEventListener("click", function () { moveBy(card, 1, down, up); });
      remove.addEventListener("click", function () { unrank(card); });
      buttons.append(up, down, remove);
      li.append(handle, number, name, buttons);
      items.set(card, li);
      return li;
    }

    // Write the order into the selects, the list and the cards.
    function render() {
      cards.forEach(function (card) { select(card).value = ""; });
      var rows = order.map(function (card, i) {
        var rank = i + 1;
        var title = titleOf(card);
        select(card).value = String(rank);
        var li = item(card);
        li.querySelector(".rank-number").textContent = "#" + rank;
        li.querySelector(".ranking-title").textContent = title;
        var up = li.querySelector(".move-up");
        var down = li.querySelector(".move-down");
        up.setAttribute("aria-label", say(text.up, { title: title }));
        down.setAttribute("aria-label", say(text.down, { title: title }));
        li.querySelector(".remove").setAttribute("aria-label", say(text.remove, { title: title }));
        up.disabled = i === 0;
        down.disabled = i === order.length - 1;
        return li;
      });
      // Only nodes whose place changed move, so the focused button keeps its focus.
      rows.forEach(function (li, i) { if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null); });
      while (list.children.length > rows.length) list.removeChild(list.lastChild);
      counter.textContent = order.length ? say(text.count, { count: order.length, max: max }) : text.empty;
      cards.forEach(function (card) {
        var rank = order.indexOf(card) + 1;
        var toggle = toggles.get(card);
        card.classList.toggle("ranked", rank > 0);
        toggle.setAttribute("aria-pressed", String(rank > 0));
        // The visible words start the button's name (WCAG 2.5.3); the scene's title ends it.
        toggle.textContent = rank ? say(text.ranked, { rank: rank }) : text.add;
        toggle.setAttribute("aria-label", toggle.textContent + say(text.which, { title: titleOf(card) }));
      });
    }

    // Put `card` at 0-based `index` of the ranking (a new card, or one moved).
    function place(card, index) {
      var at = order.indexOf(card);
      if (at < 0 && order.length >= max) {
        showError(say(text.limit, { max: max }));  // role="alert": read out once, by itself
        return false;
      }
      if (at >= 0) order.splice(at, 1);
      index = Math.max(0, Math.min(index, order.length));
      order.splice(index, 0, card);
      showError("");
      render();
      announce(say(at < 0 ? text.addedAt : text.movedTo, { title: titleOf(card), rank: index + 1, count: order.length }));
      return true;
    }
    function unrank(card) {
      var at = order.indexOf(card);
      if (at < 0) return;
      var li = items.get(card);
      var focusWasInside = li.contains(document.activeElement);
      order.splice(at, 1);
      showError("");
      render();
      announce(say(text.removed, { title: titleOf(card), count: order.length }));
      if (focusWasInside) {
        // Keep the keyboard in the list: the row that took its place, or the scene itself.
        var next = list.children[Math.min(at, list.children.length - 1)];
        (next ? next.querySelector(".remove") : toggles.get(card)).focus();
      }
    }
    function toggle(card) {
      if (order.indexOf(card) >= 0) unrank(card); else place(card, order.length);
    }
    function moveBy(card, step, pressed, other) {
      place(card, order.indexOf(card) + step);
      (pressed.disabled ? other : pressed).focus();
    }

    // --- Drag (pointer events: one code path for mouse, pen and touch) ---------------------
    function startDrag(event, card, source) {
      if (event.pointerType === "mouse" && event.button !== 0) return;
      event.preventDefault();
      var handle = event.currentTarget;
      handle.setPointerCapture(event.pointerId);
      var ghost = document.createElement("div");
      ghost.className = "drag-ghost";
      ghost.setAttribute("aria-hidden", "true");
      ghost.textContent = titleOf(card);
      document.body.appendChild(ghost);
      var marker = document.createElement("li");
      marker.className = "drop-marker";
      marker.setAttribute("aria-hidden", "true");
      var target = null;
      if (source) source.classList.add("drag-source");
      root.classList.add("dragging");

      function follow(moveEvent) {
        // CSSOM, not a style attribute: the page's CSP allows the one and not the other.
        ghost.style.transform = "translate(" + (moveEvent.clientX + 12) + "px, " + (moveEvent.clientY - 18) + "px)";
        var box = panel.getBoundingClientRect();
        var near = 48;
        if (moveEvent.clientY < box.top - near || moveEvent.clientY > box.bottom + near ||
            moveEvent.clientX < box.left - near || moveEvent.clientX > box.right + near) {
          target = null;
          if (marker.parentNode) marker.parentNode.removeChild(marker);
        } else {
          var rows = toArray(list.children).filter(function (li) { return li !== source && li !== marker; });
          target = rows.length;
          for (var i = 0; i < rows.length; i++) {
            var r = rows[i].getBoundingClientRect();
            if (moveEvent.clientY < r.top + r.height / 2) { target = i; break; }
          }
          list.insertBefore(marker, rows[target] || null);
        }
        // Near the window's edge, scroll: on a phone the list may be a screen away.
        if (moveEvent.clientY < 60) window.scrollBy(0, -16);
        else if (moveEvent.clientY > window.innerHeight - 60) window.scrollBy(0, 16);
      }
      // Escape, a cancelled pointer or a lost capture drop nothing; only a release drops.
      function escape(keyEvent) { if (keyEvent.key === "Escape") end(keyEvent); }
      function end(endEvent) {
        handle.removeEventListener("pointermove", follow);
        ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (type) {
          handle.removeEventListener(type, end);
        });
        document.removeEventListener("keydown", escape);
        ghost.parentNode.removeChild(ghost);
        if (marker.parentNode) marker.parentNode.removeChild(marker);
        if (source) source.classList.remove("drag-source");
        root.classList.remove("dragging");
        if (endEvent.type === "pointerup" && target !== null) place(card, target);
      }
      handle.addEventListener("pointermove", follow);
      ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (type) {
        handle.addEventListener(type, end);
      });
      document.addEventListener("keydown", escape);
      follow(event);
    }

    // --- The cards: a rank button (keys 1-9 put the scene at that rank) and a drag handle ----
    cards.forEach(function (card) {
      var control = card.querySelector(".card-rank");
      control.querySelector(".rank-field").hidden = true;
      var rankButton = button("rank-toggle", "", text.add);
      rankButton.addEventListener("click", function () { toggle(card); });
      rankButton.addEventListener("keydown", function (event) {
        var digit = parseInt(event.key, 10);
        if (digit >= 1 && digit <= 9 && !event.altKey && !event.ctrlKey && !event.metaKey) {
          event.preventDefault();
          if (digit > max) { showError(say(text.limit, { max: max })); return; }
          place(card, digit - 1);
        }
      });
      var handle = document.createElement("span");
      handle.className = "drag-handle card-handle";
      handle.textContent = "⠿";
      handle.title = text.drag;
      handle.setAttribute("aria-hidden", "true");
      handle.addEventListener("pointerdown", function (event) { startDrag(event, card, items.get(card) || null); });
      control.append(rankButton, handle);
      toggles.set(card, rankButton);
      card.addEventListener("click", function (event) {
        // A tap on the card ranks it; not one on its own controls (clip, spoiler, links).
        if (event.target.closest("a, button, select, label, summary, input, iframe, .clip, .drag-handle")) return;
        toggle(card);
      });
      var details = card.querySelector("details.spoiler");
      if (details) details.addEventListener("toggle", render);
    });
    panel.hidden = false;
    render();

    return {
      ranking: function () { return order.slice(); },
      titleOf: titleOf,
      isEmpty: function () { return order.length === 0; },
      label: (root.querySelector("legend") || {}).textContent || "",
      focus: function () { (list.querySelector("button:not(:disabled)") || toggles.get(cards[0])).focus(); }
    };
  }

  var roots = toArray(form.querySelectorAll(".ballot-box")).filter(function (root) { return root.querySelector(".candidate"); });
  var boxes = roots.map(RankingBox);

  // --- Review, then cast ---------------------------------------------------------------
  function showForm() {
    review.hidden = true;
    form.hidden = false;
  }
  function showReview() {
    var lists = review.querySelector(".review-lists");
    lists.textContent = "";
    boxes.forEach(function (box) {
      if (box.isEmpty()) return;
      if (boxes.length > 1) {
        var heading = document.createElement("h3");
        heading.textContent = box.label;
        lists.append(heading);
      }
      var ol = document.createElement("ol");
      ol.className = "review-list";
      box.ranking().forEach(function (card) {
        var li = document.createElement("li");
        li.textContent = box.titleOf(card);
        ol.append(li);
      });
      lists.append(ol);
    });
    form.hidden = true;
    review.hidden = false;
    review.querySelector("h2").focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (boxes.every(function (box) { return box.isEmpty(); })) {
      showError(text.needOne);
      if (boxes.length) boxes[0].focus();
      return;
    }
    showError("");
    showReview();
  });

  review.querySelector('[data-review="change"]').addEventListener("click", function () {
    showForm();
    boxes[0].focus();
  });

  // The ranking, plus the invite code (closed-list polls) and the honeypot as the form has them.
  function ballotBody(order) {
    var body = { ranking: order.map(function (card) { return parseInt(card.dataset.id, 10); }) };
    ["invite", "website"].forEach(function (name) {
      if (form.elements[name] && form.elements[name].value) body[name] = form.elements[name].value;
    });
    return body;
  }

  var cast = review.querySelector('[data-review="cast"]');
  cast.addEventListener("click", function () {
    if (!form.dataset.api) {
      // A poll with categories: the form itself casts one ballot per category.
      form.submit();
      return;
    }
    cast.disabled = true;
    announce(text.casting);
    var token = document.querySelector('meta[name="csrf-token"]').content;
    fetch(form.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(ballotBody(boxes[0].ranking()))
    }).then(function (response) {
      // A refusal from a proxy may not be JSON: it is still a refusal, said in plain words.
      return response.json().catch(function () { return {}; })
        .then(function (body) { return { status: response.status, body: body }; });
    }).then(function (result) {
      if (result.status !== 201) throw new Error(result.body.message || text.refused);
      // The ballot is in; with no receipt link to follow, the poll page says "You already voted".
      window.location.assign(result.body.receipt_url || window.location.href);
    }).catch(function (error) {
      cast.disabled = false;
      showForm();
      showError(error instanceof TypeError ? text.network : error.message);
      errorBox.focus();
    });
  });
}());
