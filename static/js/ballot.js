// Ballot enhancement: tap a scene to give it the next rank, and cast the
// ballot as JSON to the API. Without this script the plain form still works.
(function () {
  "use strict";
  var form = document.getElementById("ballot");
  if (!form) return;
  var errorBox = document.getElementById("ballot-error");

  function selectOf(card) { return card.querySelector("select"); }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  // One ranked list: the whole form, or each category's fieldset of a category poll.
  function rankingBox(box) {
    var max = parseInt(box.dataset.max, 10);
    var cards = Array.prototype.slice.call(box.querySelectorAll(".candidate"));

    function ranked() {
      return cards
        .filter(function (card) { return selectOf(card).value !== ""; })
        .sort(function (a, b) { return selectOf(a).value - selectOf(b).value; });
    }

    function refresh() {
      cards.forEach(function (card) { card.classList.toggle("ranked", selectOf(card).value !== ""); });
    }

    // Renumber 1..n in the current order so tapping never leaves gaps.
    function renumber(order) {
      cards.forEach(function (card) { selectOf(card).value = ""; });
      order.forEach(function (card, i) { selectOf(card).value = String(i + 1); });
      refresh();
    }

    cards.forEach(function (card) {
      card.addEventListener("click", function (event) {
        if (event.target.closest("select, a, label, button")) return;
        var order = ranked();
        var at = order.indexOf(card);
        if (at >= 0) {
          order.splice(at, 1);
        } else if (order.length >= max) {
          showError("You can rank at most " + max + " scenes. Tap a ranked scene to remove it.");
          return;
        } else {
          order.push(card);
        }
        showError("");
        renumber(order);
      });
      selectOf(card).addEventListener("change", refresh);
    });
    return ranked;
  }

  var boxes = form.querySelectorAll(".ballot-box");
  if (boxes.length) {
    // A category poll: one ranking per category, cast together by the form itself.
    Array.prototype.forEach.call(boxes, rankingBox);
    return;
  }
  var ranked = rankingBox(form);

  // The ranking, plus the invite code (closed-list polls) and the honeypot as the form has them.
  function ballotBody(order) {
    var body = { ranking: order.map(function (card) { return parseInt(card.dataset.id, 10); }) };
    ["invite", "website"].forEach(function (name) {
      if (form.elements[name] && form.elements[name].value) body[name] = form.elements[name].value;
    });
    return body;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var order = ranked();
    var seen = {};
    for (var i = 0; i < order.length; i++) {
      var rank = selectOf(order[i]).value;
      if (seen[rank]) { showError("Two scenes share rank #" + rank + "; give each its own."); return; }
      seen[rank] = true;
    }
    if (!order.length) { showError("Rank at least one scene."); return; }
    var token = document.querySelector('meta[name="csrf-token"]').content;
    fetch(form.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(ballotBody(order))
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (result) {
      if (result.status !== 201) { showError(result.body.message || "Your ballot was not accepted."); return; }
      var done = document.createElement("section");
      done.className = "card";
      done.setAttribute("role", "status");
      var heading = document.createElement("h2");
      heading.textContent = "Your ballot is in";
      var receipt = document.createElement("p");
      receipt.textContent = "Receipt: ";
      var code = document.createElement("a");
      code.className = "receipt";
      code.href = result.body.receipt_url;
      code.textContent = result.body.receipt;
      receipt.append(code);
      var link = document.createElement("a");
      link.href = result.body.results_url;
      link.className = "button";
      link.textContent = "See the live standings";
      done.append(heading, receipt, link);
      form.replaceWith(done);
      showError("");
    }).catch(function () {
      showError("We could not reach the server. Your ballot was not cast; please try again.");
    });
  });
}());
