// A stand-in for Telegram's telegram-web-app.js in browser tests: window.Telegram.WebApp
// with the initData and theme the test chose (window.__telegram, set before this runs),
// and the calls a page makes recorded in window.__telegramCalls.
(function () {
  "use strict";
  var given = window.__telegram || {};
  var calls = (window.__telegramCalls = []);
  var handlers = {};
  var scanCallback = null;
  function record(name, args) { calls.push({ name: name, args: Array.prototype.slice.call(args) }); }
  function button() {
    var clicks = [];
    var self = {
      text: "", isVisible: false, isActive: true,
      setText: function (text) { record("MainButton.setText", arguments); self.text = text; return self; },
      show: function () { record("MainButton.show", arguments); self.isVisible = true; return self; },
      hide: function () { record("MainButton.hide", arguments); self.isVisible = false; return self; },
      enable: function () { self.isActive = true; return self; },
      disable: function () { self.isActive = false; return self; },
      showProgress: function () { return self; },
      hideProgress: function () { return self; },
      setParams: function (params) { if (params.text) self.text = params.text; return self; },
      onClick: function (fn) { clicks.push(fn); return self; },
      offClick: function (fn) { var i = clicks.indexOf(fn); if (i >= 0) clicks.splice(i, 1); return self; },
      __click: function () { clicks.slice().forEach(function (fn) { fn(); }); }
    };
    return self;
  }
  window.Telegram = {
    WebApp: {
      initData: given.initData || "",
      initDataUnsafe: given.initDataUnsafe || {},
      themeParams: given.themeParams || {},
      colorScheme: given.colorScheme || "light",
      version: "8.0",
      platform: "tdesktop",
      MainButton: button(),
      BackButton: { show: function () {}, hide: function () {}, onClick: function () {}, offClick: function () {} },
      HapticFeedback: {
        impactOccurred: function () { record("HapticFeedback.impactOccurred", arguments); },
        notificationOccurred: function () { record("HapticFeedback.notificationOccurred", arguments); },
        selectionChanged: function () { record("HapticFeedback.selectionChanged", arguments); }
      },
      ready: function () { record("ready", arguments); },
      expand: function () { record("expand", arguments); },
      close: function () { record("close", arguments); },
      onEvent: function (name, fn) { (handlers[name] = handlers[name] || []).push(fn); },
      offEvent: function (name, fn) { var list = handlers[name] || []; var i = list.indexOf(fn); if (i >= 0) list.splice(i, 1); },
      showAlert: function (message, callback) { record("showAlert", arguments); if (callback) callback(); },
      showConfirm: function (message, callback) { record("showConfirm", arguments); if (callback) callback(given.confirm !== false); },
      showScanQrPopup: function (params, callback) { record("showScanQrPopup", arguments); scanCallback = callback; },
      closeScanQrPopup: function () { record("closeScanQrPopup", arguments); scanCallback = null; },
      // test controls: what the camera read, and a theme change
      __scan: function (text) { if (scanCallback && scanCallback(text) === true) scanCallback = null; },
      __setTheme: function (params, scheme) {
        this.themeParams = params; this.colorScheme = scheme;
        (handlers.themeChanged || []).forEach(function (fn) { fn(); });
      }
    }
  };
})();
