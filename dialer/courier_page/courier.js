/* The courier's page: today's notices, one-tap delivery reports and the phone's position.
 *
 * Everything the courier reports goes into a queue in localStorage first (each report with a client_id
 * made once), and the queue is sent in order whenever the phone is online: on load, on the browser's
 * "online" event and on a timer. The server stores a report once per client_id, so sending again after a
 * lost answer is safe. 2xx: sent. 401: the link no longer works, the queue is kept. 408, 429, 5xx or no
 * network: kept and tried again. Any other 4xx: the server will never take it, so it is dropped and the
 * courier is told why.
 *
 * The API is at ../api/v1/ relative to this page (/courier/<token>), called with the token from the URL.
 * No external resources and no framework: this runs on any phone browser of recent years.
 */
(function () {
  "use strict";

  var METHODS = [
    ["personal", "Лично в руки"],
    ["mailbox", "В почтовый ящик"],
    ["refused", "Отказ от получения"],
    ["nobody_home", "Никого нет дома"],
  ];
  var METHOD_TEXT = {
    personal: "лично в руки",
    mailbox: "в почтовый ящик",
    refused: "отказ от получения",
    nobody_home: "никого нет дома",
  };
  var MAX_TRIES = 20; // debtors/field_reports.py MAX_TRIES
  var POSITION_BATCH = 500; // dialer/openapi.py MAX_POSITIONS
  var MAX_QUEUED_POSITIONS = 2000; // older positions are let go, reports never are
  var RETRY_MS = 15000;
  var REFRESH_MS = 5 * 60 * 1000;
  var REQUEST_TIMEOUT_MS = 20000;
  var FIX_FRESH_MS = 10 * 60 * 1000; // a delivery carries the last fix if it is at most this old
  var MESSAGES_SHOWN = 5;

  var token = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop() || "");
  var apiBase = new URL("../api/v1/", location.href);
  var keys = {
    queue: "upravdolg.queue." + token,
    list: "upravdolg.list." + token,
    me: "upravdolg.me." + token,
  };

  var state = {
    me: load(keys.me, null),
    notices: load(keys.list, []),
    queue: load(keys.queue, []),
    tries: {},
    flushing: false,
    authFailed: false,
    lastFix: null,
    lastQueuedFixAt: 0,
    positionTimer: null,
    positionEvery: 0,
    sampling: false,
    geoText: "",
  };

  // -- storage ----------------------------------------------------------------------------------------

  function load(key, fallback) {
    try {
      var text = window.localStorage.getItem(key);
      return text ? JSON.parse(text) : fallback;
    } catch (e) {
      return fallback;
    }
  }

  function save(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      showMessage("Не удалось сохранить данные на телефоне: " + e.message, "error");
    }
  }

  function saveQueue() {
    save(keys.queue, state.queue);
  }

  function newClientId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      return c.randomUUID();
    }
    if (c && typeof c.getRandomValues === "function") {
      var bytes = new Uint8Array(16);
      c.getRandomValues(bytes);
      return Array.prototype.map
        .call(bytes, function (b) {
          return (b + 256).toString(16).slice(1);
        })
        .join("");
    }
    return "r" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 14);
  }

  // -- the server ---------------------------------------------------------------------------------------

  function request(method, path, body) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller
      ? setTimeout(function () {
          controller.abort();
        }, REQUEST_TIMEOUT_MS)
      : null;
    var headers = { Authorization: "Bearer " + token, Accept: "application/json" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    return fetch(new URL(path, apiBase).toString(), {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            return { ok: response.ok, status: response.status, data: data };
          });
      })
      .catch(function () {
        return { ok: false, status: 0, data: null, network: true };
      })
      .then(function (result) {
        if (timer) {
          clearTimeout(timer);
        }
        return result;
      });
  }

  // What the server's error ids mean for the courier (the details the server adds are technical English).
  var ERRORS = {
    forbidden: "уведомление передано другому курьеру",
    not_found: "уведомление не найдено",
    conflict: "отчёт с этим номером уже отправлен по другому адресу",
    invalid: "данные не прошли проверку",
    bad_json: "телефон отправил повреждённые данные",
    too_large: "слишком много данных за раз",
  };

  function describeError(result) {
    var data = result.data && typeof result.data === "object" ? result.data : {};
    var problems = Array.isArray(data.problems) ? data.problems : [];
    var details = problems.length
      ? problems
          .map(function (p) {
            return p.field + ": " + p.message;
          })
          .join("; ")
      : data.message || "";
    var text = ERRORS[data.error] || "ошибка " + result.status;
    return details ? text + " (" + details + ")" : text;
  }

  function linkFailed() {
    if (!state.authFailed) {
      state.authFailed = true;
      showMessage(
        "Ссылка больше не действует. Попросите у диспетчера новую ссылку; " +
          "неотправленные отчёты сохранены на этом телефоне.",
        "error",
      );
    }
    renderStatus();
  }

  /* What to do with items the server answered with an error: "retry" keeps them, "done" dropped them. */
  function failed(result, items, what) {
    if (result.status === 401) {
      linkFailed();
      return "retry";
    }
    if (result.network || result.status === 408 || result.status === 429 || result.status >= 500) {
      return "retry";
    }
    drop(items);
    showMessage(what + " не принят сервером: " + describeError(result), "error");
    return "done";
  }

  function drop(items) {
    state.queue = state.queue.filter(function (item) {
      return items.indexOf(item) < 0;
    });
    saveQueue();
  }

  function sendDelivery(item) {
    return request("POST", "courier/notices/" + item.notice_id + "/deliveries", item.body).then(
      function (result) {
        if (result.ok) {
          drop([item]);
          if (result.data && result.data.notice) {
            updateNotice(result.data.notice);
          }
          render();
          return "done";
        }
        var outcome = failed(result, [item], "Отчёт по адресу «" + item.address + "»");
        if (outcome === "done") {
          render();
          refresh();
        }
        return outcome;
      },
    );
  }

  function sendPositions() {
    var items = [];
    while (
      items.length < state.queue.length &&
      items.length < POSITION_BATCH &&
      state.queue[items.length].type === "position"
    ) {
      items.push(state.queue[items.length]);
    }
    var body = {
      positions: items.map(function (item) {
        return item.body;
      }),
    };
    return request("POST", "courier/positions", body).then(function (result) {
      if (result.ok) {
        drop(items);
        return "done";
      }
      return failed(result, items, "Отчёт о местоположении");
    });
  }

  /* Send the queue in order, one request at a time; stop at the first item to try again later. */
  function flush() {
    if (state.flushing || state.authFailed || !navigator.onLine || !state.queue.length) {
      renderStatus();
      return Promise.resolve();
    }
    state.flushing = true;
    renderStatus();
    function next() {
      if (!state.queue.length) {
        return Promise.resolve();
      }
      var head = state.queue[0];
      var sent = head.type === "delivery" ? sendDelivery(head) : sendPositions();
      return sent.then(function (outcome) {
        renderStatus();
        return outcome === "retry" ? undefined : next();
      });
    }
    return next().then(
      function () {
        state.flushing = false;
        renderStatus();
      },
      function (error) {
        state.flushing = false;
        renderStatus();
        throw error;
      },
    );
  }

  function refresh() {
    if (state.authFailed || !navigator.onLine) {
      return Promise.resolve();
    }
    return request("GET", "courier/me")
      .then(function (result) {
        if (result.status === 401) {
          linkFailed();
          return null;
        }
        if (result.ok && result.data) {
          state.me = result.data;
          save(keys.me, state.me);
          renderHeader();
          startPositions();
        }
        return request("GET", "courier/notices");
      })
      .then(function (result) {
        if (result && result.ok && result.data && Array.isArray(result.data.notices)) {
          state.notices = result.data.notices;
          save(keys.list, state.notices);
          render();
        }
      });
  }

  function updateNotice(notice) {
    for (var i = 0; i < state.notices.length; i++) {
      if (state.notices[i].notice_id === notice.notice_id) {
        state.notices[i] = notice;
      }
    }
    delete state.tries[notice.notice_id];
    save(keys.list, state.notices);
  }

  // -- reports ------------------------------------------------------------------------------------------

  function queuedReport(noticeId) {
    for (var i = 0; i < state.queue.length; i++) {
      var item = state.queue[i];
      if (item.type === "delivery" && item.notice_id === noticeId) {
        return item;
      }
    }
    return null;
  }

  function triesOf(notice) {
    if (state.tries[notice.notice_id]) {
      return state.tries[notice.notice_id];
    }
    return notice.state === "assigned" && notice.tries > 0 ? Math.min(notice.tries + 1, MAX_TRIES) : 1;
  }

  function freshFix() {
    var fix = state.lastFix;
    return fix && Date.now() - fix.at <= FIX_FRESH_MS ? fix : null;
  }

  function report(notice, method) {
    var body = { client_id: newClientId(), method: method, tries: triesOf(notice), at: Date.now() };
    var fix = freshFix();
    if (fix) {
      body.position = fix;
    }
    state.queue.push({
      type: "delivery",
      notice_id: notice.notice_id,
      address: notice.address,
      body: body,
    });
    saveQueue();
    render();
    flush();
  }

  // -- position -----------------------------------------------------------------------------------------

  function fixOf(position) {
    var c = position.coords;
    var accuracy = isFinite(c.accuracy) && c.accuracy >= 0 && c.accuracy <= 100000 ? c.accuracy : null;
    return {
      latitude: c.latitude,
      longitude: c.longitude,
      accuracy_m: accuracy === null ? null : Math.round(accuracy * 10) / 10,
      at: Math.round(position.timestamp || Date.now()),
    };
  }

  function queueFix() {
    var fix = state.lastFix;
    if (!fix || fix.at <= state.lastQueuedFixAt) {
      return;
    }
    state.lastQueuedFixAt = fix.at;
    state.queue.push({ type: "position", body: fix });
    var positions = state.queue.filter(function (item) {
      return item.type === "position";
    });
    if (positions.length > MAX_QUEUED_POSITIONS) {
      drop(positions.slice(0, positions.length - MAX_QUEUED_POSITIONS));
    }
    saveQueue();
    flush();
  }

  function onFix(position) {
    state.lastFix = fixOf(position);
    var accuracy = state.lastFix.accuracy_m;
    setGeo(
      "Местоположение определено" + (accuracy === null ? "" : " (±" + Math.round(accuracy) + " м)"),
      "ok",
    );
    if (!state.lastQueuedFixAt) {
      queueFix(); // the first fix goes at once, later ones on the timer
    }
  }

  function onGeoError(error) {
    if (error && error.code === 1) {
      setGeo(
        "Нет доступа к местоположению: разрешите его в настройках браузера. " +
          "Отчёты отправляются без координат.",
        "error",
      );
    } else if (!state.lastFix) {
      setGeo("Местоположение пока не определено", "waiting");
    }
  }

  function setGeo(text, kind) {
    var element = document.getElementById("geo-status");
    element.textContent = text;
    element.dataset.geo = kind;
  }

  /* On the timer: the latest fix of watchPosition goes to the queue if it is new (a phone standing still
   * gives none, and the same fix again would be skipped by the server). A fix older than two periods gets a
   * fresh reading asked for, in case the browser stopped watching. */
  function tickPosition() {
    queueFix();
    var fix = state.lastFix;
    if (state.sampling || (fix && Date.now() - fix.at < 2 * state.positionEvery * 1000)) {
      return;
    }
    state.sampling = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        state.sampling = false;
        onFix(position);
        queueFix();
      },
      function (error) {
        state.sampling = false;
        onGeoError(error);
      },
      { enableHighAccuracy: true, maximumAge: 0, timeout: 30000 },
    );
  }

  function startGeolocation() {
    if (!("geolocation" in navigator)) {
      setGeo("Этот браузер не сообщает местоположение", "error");
      return;
    }
    if (window.isSecureContext === false) {
      setGeo("Местоположение доступно только по защищённой ссылке (https)", "error");
      return;
    }
    setGeo("Определяем местоположение…", "waiting");
    navigator.geolocation.watchPosition(onFix, onGeoError, {
      enableHighAccuracy: true,
      maximumAge: 30000,
      timeout: 60000,
    });
    startPositions();
  }

  function startPositions() {
    var every = (state.me && state.me.position_every_seconds) || 60;
    if (!("geolocation" in navigator) || window.isSecureContext === false) {
      return;
    }
    if (state.positionTimer && every === state.positionEvery) {
      return;
    }
    if (state.positionTimer) {
      clearInterval(state.positionTimer);
    }
    state.positionEvery = every;
    state.positionTimer = setInterval(tickPosition, every * 1000);
  }

  // -- the page -----------------------------------------------------------------------------------------

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function money(text) {
    var amount = Number(text);
    if (!isFinite(amount)) {
      return text + " ₽";
    }
    return (
      amount.toLocaleString("ru-RU", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " ₽"
    );
  }

  function clock(iso) {
    var when = new Date(iso);
    var time = when.toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" });
    if (when.toDateString() === new Date().toDateString()) {
      return time;
    }
    return when.toLocaleDateString("ru-RU", { day: "2-digit", month: "2-digit" }) + " " + time;
  }

  function resultText(notice, queued) {
    if (queued) {
      var how = METHOD_TEXT[queued.body.method] || queued.body.method;
      return "В очереди на отправку: " + how + (navigator.onLine ? "" : " (отправится, когда появится сеть)");
    }
    if (notice.state === "delivered") {
      var text = "Вручено: " + (notice.method_label || METHOD_TEXT[notice.method] || "");
      return notice.delivered_at ? text + ", " + clock(notice.delivered_at) : text;
    }
    if (notice.state === "cancelled") {
      return "Отменено: не вручать";
    }
    if (notice.tries > 0) {
      var label = notice.method_label || METHOD_TEXT[notice.method] || "";
      return "Посещение: " + label + ", попыток: " + notice.tries;
    }
    return "";
  }

  function renderNotice(notice) {
    var queued = queuedReport(notice.notice_id);
    var item = element("li", "notice");
    item.id = "notice-" + notice.notice_id;
    item.dataset.noticeId = notice.notice_id;
    item.dataset.state = notice.state;
    item.dataset.status = queued
      ? "queued"
      : notice.state === "delivered"
        ? "delivered"
        : notice.tries > 0
          ? "visited"
          : "open";

    var address = element("div", "address", notice.address);
    address.dataset.test = "address";
    item.appendChild(address);
    var name = element("div", "name", notice.full_name);
    name.dataset.test = "full-name";
    item.appendChild(name);
    var meta = element("div", "meta");
    meta.appendChild(element("span", "account", "ЛС " + notice.account));
    meta.appendChild(element("span", "kind", notice.kind_label));
    var debt = element("span", "debt", money(notice.debt));
    debt.dataset.test = "debt";
    meta.appendChild(debt);
    item.appendChild(meta);

    var result = element("p", "result", resultText(notice, queued));
    result.dataset.test = "result";
    result.hidden = !result.textContent;
    item.appendChild(result);

    if (notice.state === "assigned") {
      var controls = element("div", "controls");
      var tries = element("div", "tries");
      tries.appendChild(element("span", "tries-label", "Попытка вручения:"));
      var minus = element("button", "step", "−");
      minus.type = "button";
      minus.dataset.action = "tries-minus";
      minus.setAttribute("aria-label", "меньше попыток");
      var count = element("output", "count", String(triesOf(notice)));
      count.dataset.test = "tries";
      var plus = element("button", "step", "+");
      plus.type = "button";
      plus.dataset.action = "tries-plus";
      plus.setAttribute("aria-label", "больше попыток");
      tries.appendChild(minus);
      tries.appendChild(count);
      tries.appendChild(plus);
      controls.appendChild(tries);
      var methods = element("div", "methods");
      METHODS.forEach(function (pair) {
        var button = element("button", "method method-" + pair[0], pair[1]);
        button.type = "button";
        button.dataset.method = pair[0];
        button.disabled = Boolean(queued);
        methods.appendChild(button);
      });
      controls.appendChild(methods);
      minus.disabled = plus.disabled = Boolean(queued);
      item.appendChild(controls);
    }
    return item;
  }

  function render() {
    var list = document.getElementById("notices");
    var items = state.notices.map(renderNotice);
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    items.forEach(function (item) {
      list.appendChild(item);
    });
    document.getElementById("empty").hidden = state.notices.length > 0;
    var delivered = state.notices.filter(function (n) {
      return n.state === "delivered";
    }).length;
    document.getElementById("summary").textContent = state.notices.length
      ? "Вручено: " + delivered + " из " + state.notices.length
      : "";
    renderStatus();
  }

  function renderHeader() {
    if (!state.me) {
      return;
    }
    document.getElementById("courier-name").textContent = state.me.name;
    var parts = String(state.me.today).split("-");
    var day = new Date(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]));
    var today = document.getElementById("today");
    today.textContent =
      "Сегодня: " +
      day.toLocaleDateString("ru-RU", { weekday: "long", day: "numeric", month: "long", year: "numeric" });
    today.dataset.date = state.me.today;
  }

  function renderStatus() {
    var waiting = state.queue.filter(function (item) {
      return item.type === "delivery";
    }).length;
    var positions = state.queue.length - waiting;
    var status = document.getElementById("net-status");
    var online = navigator.onLine;
    status.textContent = state.authFailed
      ? "Ссылка недействительна, в очереди: " + waiting
      : (online ? "Онлайн" : "Нет сети") + ", в очереди: " + waiting;
    status.title = "координат в очереди: " + positions;
    status.dataset.online = online ? "yes" : "no";
    status.dataset.queued = String(waiting);
    status.dataset.sending = state.flushing ? "yes" : "no";
  }

  function showMessage(text, kind) {
    var box = document.getElementById("messages");
    var message = element("div", "message message-" + (kind || "info"));
    message.dataset.test = "message";
    message.appendChild(element("span", "", text));
    var close = element("button", "close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "закрыть");
    close.addEventListener("click", function () {
      box.removeChild(message);
    });
    message.appendChild(close);
    box.insertBefore(message, box.firstChild);
    while (box.children.length > MESSAGES_SHOWN) {
      box.removeChild(box.lastChild);
    }
  }

  function findNotice(id) {
    for (var i = 0; i < state.notices.length; i++) {
      if (state.notices[i].notice_id === id) {
        return state.notices[i];
      }
    }
    return null;
  }

  function onClick(event) {
    var button = event.target.closest("button");
    var item = button && button.closest("[data-notice-id]");
    if (!item || button.disabled) {
      return;
    }
    var notice = findNotice(Number(item.dataset.noticeId));
    if (!notice) {
      return;
    }
    if (button.dataset.method) {
      report(notice, button.dataset.method);
      return;
    }
    var step = button.dataset.action === "tries-plus" ? 1 : button.dataset.action === "tries-minus" ? -1 : 0;
    if (step) {
      state.tries[notice.notice_id] = Math.max(1, Math.min(MAX_TRIES, triesOf(notice) + step));
      item.querySelector("[data-test=tries]").textContent = String(state.tries[notice.notice_id]);
    }
  }

  function start() {
    document.getElementById("notices").addEventListener("click", onClick);
    window.addEventListener("online", function () {
      renderStatus();
      render();
      flush().then(refresh);
    });
    window.addEventListener("offline", function () {
      render();
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        flush().then(refresh);
      }
    });
    setInterval(flush, RETRY_MS);
    setInterval(refresh, REFRESH_MS);
    renderHeader();
    render();
    startGeolocation();
    flush().then(refresh);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
