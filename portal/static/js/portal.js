// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // After htmx swaps a result list, move focus to it so screen readers announce the new content.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.hasAttribute("data-focus-on-swap")) {
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: true });
    }
  });
  // Errors from the server (4xx/5xx) are swapped in too, so the message is seen in place.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 404 || status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Filter drawers (<details data-collapse-narrow>) are served open, which is what a wide screen and
  // a browser without script show; on a phone they start closed, so the list comes first and the
  // summary says how many filters are on. One with an error stays open. A drawer that htmx swaps
  // in (the announcements' filters are part of their results) keeps the state of the one it replaces.
  var narrow = window.matchMedia("(max-width: 599.98px)");
  var drawerWasOpen = null;
  var collapse = function (root) {
    Array.prototype.forEach.call(root.querySelectorAll("details[data-collapse-narrow]"), function (drawer) {
      if (!drawer.querySelector(".has-error, .form-summary")) drawer.open = false;
    });
  };
  if (narrow.matches) collapse(document);
  // Lets portal.css draw the drawers again: until now it hid an open one's form on a phone.
  document.documentElement.setAttribute("data-enhanced", "");
  document.addEventListener("htmx:beforeSwap", function (event) {
    var drawer = event.detail.target.querySelector("details[data-collapse-narrow]");
    drawerWasOpen = drawer ? drawer.open : null;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (drawerWasOpen === false) collapse(event.detail.target);
  });

  // The header search box is an ARIA 1.2 combobox with a list of suggestions (base.html): htmx
  // fills the list as the visitor types; the arrow keys move through it, Enter opens the chosen
  // suggestion (or searches when none is chosen), Escape closes it.
  var input = document.getElementById("site-q");
  var list = document.getElementById("site-suggest");
  var status = document.getElementById("site-suggest-status");
  if (input && list) {
    var active = -1;
    var options = function () {
      return Array.prototype.slice.call(list.querySelectorAll('[role="option"]'));
    };
    var choose = function (index) {
      var all = options();
      active = index;
      all.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      if (active >= 0 && all[active]) {
        input.setAttribute("aria-activedescendant", all[active].id);
        all[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    };
    var close = function () {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      choose(-1);
    };
    var open = function () {
      var count = options().length;
      list.hidden = count === 0;
      input.setAttribute("aria-expanded", count ? "true" : "false");
      if (status) status.textContent = count ? (list.getAttribute("data-count") || "").replace("{n}", count - 1) : "";
    };
    var follow = function (option) {
      if (option && option.getAttribute("data-href")) window.location.assign(option.getAttribute("data-href"));
    };
    document.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target !== list) return;
      active = -1;
      if (document.activeElement === input && input.value.trim().length >= 2) open();
      else close();
    });
    input.addEventListener("keydown", function (event) {
      var expanded = !list.hidden;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!options().length) return;
        event.preventDefault();
        if (!expanded) open();
        var count = options().length;
        // Down from the box goes to the first suggestion, up to the last; both wrap around.
        var next = event.key === "ArrowDown" ? active + 1 : (active < 0 ? count - 1 : active - 1);
        choose((next + count) % count);
      } else if (event.key === "Enter" && expanded && active >= 0) {
        event.preventDefault();
        follow(options()[active]);
      } else if (event.key === "Escape" && expanded) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("input", function () {
      if (input.value.trim().length < 2) close();
    });
    input.addEventListener("blur", function () {
      // Later than a click on an option, which follows its link first.
      window.setTimeout(close, 150);
    });
    list.addEventListener("mousedown", function (event) {
      var option = event.target.closest('[role="option"]');
      if (option) {
        event.preventDefault();
        follow(option);
      }
    });
  }

  // Share panels: copy a link or a snippet, print the page. The buttons stay hidden without script.
  var announce = function (button) {
    var panel = button.closest(".share-panel");
    var note = panel && panel.querySelector(".copy-status");
    if (note) note.textContent = button.getAttribute("data-copied") || "";
  };
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) return;
      var fallback = function () {
        field.select();
        document.execCommand("copy");
        announce(button);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { announce(button); }, fallback);
      } else {
        fallback();
      }
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
