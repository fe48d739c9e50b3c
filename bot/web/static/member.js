// The members' Mini App: asks the server for each screen with Telegram's signed initData
// and shows the HTML it answers. Links and forms marked data-get load a screen; buttons
// marked data-post send an action once (the server also acts at most once per request id).
(function () {
  "use strict";
  var tg = window.Telegram && window.Telegram.WebApp;
  var screen = document.getElementById("screen");
  var THEME = {
    bg_color: "--bg", text_color: "--text", hint_color: "--hint", link_color: "--link",
    button_color: "--button", button_text_color: "--button-text",
    secondary_bg_color: "--card", destructive_text_color: "--danger"
  };
  var refreshTimer = null;

  function applyTheme() {
    var params = (tg && tg.themeParams) || {};
    var root = document.documentElement;
    Object.keys(THEME).forEach(function (key) {
      if (params[key]) root.style.setProperty(THEME[key], params[key]);
    });
    if (tg && tg.colorScheme) root.dataset.scheme = tg.colorScheme;
  }

  function request(url, options) {
    var headers = { "X-Telegram-Init-Data": (tg && tg.initData) || "" };
    if (options && options.body) headers["Content-Type"] = "application/json";
    return fetch(url, Object.assign({ headers: headers, credentials: "omit" }, options || {}));
  }

  function refusedText(status) {
    var id = status === 401 ? "refused-sign-in" : "refused-failure";
    var template = document.getElementById(id);
    return template ? template.innerHTML : String(status);
  }

  function show(html) {
    clearTimeout(refreshTimer);
    screen.innerHTML = html;
    window.scrollTo(0, 0);
    scheduleRefresh();
  }

  function answer(response) {
    var type = response.headers.get("Content-Type") || "";
    if (type.indexOf("text/html") === 0) return response.text().then(show);
    show('<div class="notice refused" role="alert">' + refusedText(response.status) + "</div>");
  }

  function load(url) {
    return request(url).then(answer, function () { answer({ status: 0, headers: new Headers() }); });
  }

  function scheduleRefresh() {
    var part = screen.querySelector("[data-refresh]");
    if (!part) return;
    var seconds = Number(part.dataset.seconds) || 60;
    refreshTimer = setTimeout(function () {
      request(part.dataset.refresh).then(function (response) {
        if (!response.ok) return answer(response);
        return response.text().then(function (html) {
          if (part.isConnected) { part.outerHTML = html; scheduleRefresh(); }
        });
      });
    }, Math.max(5, seconds * 0.8) * 1000);
  }

  function post(button) {
    if (button.disabled) return;
    button.disabled = true;  // a second tap sends nothing; a replayed request acts once anyway
    request(button.dataset.post, { method: "POST", body: button.dataset.body })
      .then(answer, function () { button.disabled = false; });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-get], [data-post]");
    if (!target || target.tagName === "FORM") return;
    event.preventDefault();
    if (target.dataset.post) post(target);
    else load(target.dataset.get);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset.get) return;
    event.preventDefault();
    var query = new URLSearchParams(new FormData(form)).toString();
    load(form.dataset.get + (query ? "?" + query : ""));
  });

  if (tg) {
    applyTheme();
    tg.onEvent && tg.onEvent("themeChanged", applyTheme);
    tg.ready();
    tg.expand();
  }
  load(screen.dataset.start);
})();
