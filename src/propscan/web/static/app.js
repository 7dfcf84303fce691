// propscan result page: technique details on hover, focus or click, and the confidence threshold.
// Article text is untrusted: everything below is written with textContent, never innerHTML.
"use strict";

(function () {
  const dataNode = document.getElementById("analysis-data");
  if (dataNode) {
    resultPage(JSON.parse(dataNode.textContent));
  }
  const deleteButton = document.getElementById("delete");
  if (deleteButton) {
    deleteButton.addEventListener("click", async function () {
      if (!window.confirm("Delete this stored analysis?")) return;
      const response = await fetch("/api/analyses/" + encodeURIComponent(deleteButton.dataset.id), { method: "DELETE" });
      if (response.ok) {
        window.location.href = "/analyses";
      } else {
        const body = await response.json().catch(function () { return {}; });
        window.alert(body.error || "The analysis could not be deleted (HTTP " + response.status + ").");
      }
    });
  }

  function resultPage(data) {
    const marks = Array.from(document.querySelectorAll("mark.hl"));
    const tip = document.getElementById("tip");
    const slider = document.getElementById("threshold");
    const sliderValue = document.getElementById("threshold-value");
    const shownCount = document.getElementById("shown-count");
    let threshold = 0;
    let pinned = null;

    function visibleSpans(mark) {
      return mark.dataset.spans.split(" ").map(Number).filter(function (i) {
        return data.spans[i].confidence >= threshold;
      });
    }

    // Same rule as view.highlight_style: a tint of the first colour, one underline per technique.
    function styleFor(indices) {
      if (!indices.length) return "";
      const colours = indices.map(function (i) { return data.techniques[data.spans[i].technique].colour; });
      const shadows = colours.map(function (c, k) { return "inset 0 -" + 3 * (k + 1) + "px 0 " + c; });
      return "background-color: " + colours[0] + "33; box-shadow: " + shadows.join(", ") +
        "; padding-bottom: " + (3 * colours.length - 3) + "px";
    }

    function applyThreshold() {
      marks.forEach(function (mark) {
        const shown = visibleSpans(mark);
        mark.setAttribute("style", styleFor(shown));
        mark.classList.toggle("hl-off", shown.length === 0);
        mark.tabIndex = shown.length ? 0 : -1;
      });
      const shown = data.spans.filter(function (s) { return s.confidence >= threshold; });
      shownCount.textContent = shown.length + " of " + data.spans.length + " spans shown";
      const counts = {};
      shown.forEach(function (s) { counts[s.technique] = (counts[s.technique] || 0) + 1; });
      const top = Math.max(1, ...Object.values(counts));
      document.querySelectorAll("#technique-chart li").forEach(function (row) {
        const n = counts[row.dataset.technique] || 0;
        row.querySelector(".count").textContent = String(n);
        row.querySelector(".bar").style.width = (100 * n / top) + "%";
      });
    }

    function addLine(parent, className, text) {
      const node = document.createElement("div");
      node.className = className;
      node.textContent = text;
      parent.appendChild(node);
      return node;
    }

    function showTip(mark) {
      const shown = visibleSpans(mark);
      if (!shown.length) { hideTip(); return; }
      tip.replaceChildren();
      shown.forEach(function (i) {
        const span = data.spans[i];
        const technique = data.techniques[span.technique];
        const item = document.createElement("div");
        item.className = "tip-item";
        item.dataset.technique = span.technique;
        const name = addLine(item, "tip-name", technique.name);
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = technique.colour;
        name.prepend(swatch);
        addLine(item, "tip-confidence", "confidence " + span.confidence.toFixed(2));
        addLine(item, "tip-definition", technique.definition);
        if (technique.example) addLine(item, "tip-example", "e.g. “" + technique.example + "”");
        addLine(item, "tip-span hint", "span: “" + span.text + "”");
        tip.appendChild(item);
      });
      tip.hidden = false;
      const box = mark.getBoundingClientRect();
      const left = Math.min(window.scrollX + box.left, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 8);
      tip.style.left = Math.max(window.scrollX + 4, left) + "px";
      tip.style.top = (window.scrollY + box.bottom + 6) + "px";
    }

    function hideTip() { tip.hidden = true; }

    marks.forEach(function (mark) {
      mark.addEventListener("mouseenter", function () { if (!pinned) showTip(mark); });
      mark.addEventListener("mouseleave", function () { if (!pinned) hideTip(); });
      mark.addEventListener("focus", function () { if (!pinned) showTip(mark); });
      mark.addEventListener("blur", function () { if (!pinned) hideTip(); });
      mark.addEventListener("click", function (event) {
        event.stopPropagation();
        pinned = pinned === mark ? null : mark;
        if (pinned) showTip(mark); else hideTip();
      });
    });
    document.addEventListener("click", function (event) {
      if (pinned && !tip.contains(event.target)) { pinned = null; hideTip(); }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { pinned = null; hideTip(); }
    });
    slider.addEventListener("input", function () {
      threshold = Number(slider.value);
      sliderValue.textContent = threshold.toFixed(2);
      applyThreshold();
      if (pinned) showTip(pinned);
    });
    threshold = Number(slider.value);
    sliderValue.textContent = threshold.toFixed(2);
    applyThreshold();
  }
})();
