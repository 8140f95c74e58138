// spasmwatch family page. Vanilla JS, no build step, talks only to this server.
// Every value from the server is shown with textContent (never as HTML).
"use strict";

(function () {
  const WHO_KEY = "spasmwatch.who";
  const ALERT_RANK = { ESCALATED: 0, ALARM: 1, WARNING: 2, ACKNOWLEDGED: 3, STALE: 4, FAULT: 5 };
  // The page's words in the family's language ([alerts] language): the "page." templates of
  // alerts/messages.py (English) or alerts/lang/<code>.py, embedded once in index.html by the
  // daemon (daemon/http.py page_in). Every key is a literal string in a call of t or tn here, so
  // tests/web/test_web_language.py can check that each language has it.
  const WORDS = readWords();
  const LANG = document.documentElement.lang || "en";
  // Times, dates and numbers in the page's language (a German page: "14:05", "82 %", "1,5 GB"), in
  // the phone's own variant of it when it has one (en-GB, de-AT). They followed the phone's locale
  // alone: a German page on an English phone said "2:05 PM".
  const LOCALE = localeOf(LANG);

  function localeOf(lang) {
    const mine = (navigator.languages || [navigator.language || ""]).find((l) => l.split("-")[0].toLowerCase() === lang);
    return mine || lang;
  }

  function readWords() {
    const block = document.getElementById("page-words");
    try { return block ? JSON.parse(block.textContent) : {}; } catch (e) { return {}; }
  }

  // Spanish says an hour with its article, "desde las 13:05" but "desde la 01:05" (la una): the
  // catalog writes "las {time}", and the article follows the hour put in (a 12 h phone's "1:05 p. m."
  // too), as alerts/messages.py _t does.
  const HOUR_ARTICLES = { es: ["las {time}", "la {time}"] };

  // A missing word shows its key (never a blank), and the key test fails.
  function t(key, vars) {
    let text = WORDS[key] === undefined ? key : WORDS[key];
    const article = HOUR_ARTICLES[LANG];
    if (article && vars && /^0?1\D/.test(String(vars.time))) text = text.split(article[0]).join(article[1]);
    return text.replace(/\{(\w+)\}/g, (m, name) => (vars && name in vars ? String(vars[name]) : m));
  }

  // Plural forms as alerts/messages.py _plural picks them: French counts 0 as one.
  function tn(key, n, vars) {
    const one = LANG === "fr" ? n === 0 || n === 1 : n === 1;
    return one ? t(`${key}.one`, { n, ...vars }) : t(`${key}.other`, { n, ...vars });
  }

  const KIND_NAMES = { video: t("kind.video"), medication: t("kind.medication"), note: t("kind.note") };
  const FAULT_NAMES = {
    disconnected: t("fault.disconnected"),
    not_worn: t("fault.not_worn"),
    battery_low: t("fault.battery_low"),
    log_nearly_full: t("fault.log_nearly_full"),
    clock_unsynced: t("fault.clock_unsynced"),
    safe_mode: t("fault.safe_mode"),
    sensor_error: t("fault.sensor_error"),
    storage_failing: t("fault.storage_failing"),
    store_newer: t("fault.store_newer"),
    band_log_failing: t("fault.band_log_failing"),
    samples_lost: t("fault.samples_lost"),
    other_bonds: t("fault.other_bonds"),
    radio_late: t("fault.radio_late"),
  };
  // The daemon's own words, sent as a key and its values next to its English text (docs/web.md
  // "Texts the daemon words"): why a band does not connect (last_error_msg), what to do for a band
  // in FAULT (detail_msg; [words, whether the daemon's English adds to them]), why raw is paused.
  const WHY = {
    here: t("why.here"),
    not_found: t("why.not_found"),
    timeout: t("why.timeout"),
    refused: t("why.refused"),
    disconnected: t("why.disconnected"),
    auth: t("why.auth"),
    io: t("why.io"),
  };
  const FAULT_DETAIL = {
    not_bonded: [(a) => t("fault_detail.not_bonded", a), false],
    pairing_refused: [(a) => t("fault_detail.pairing_refused", a), true],
    band_refused: [(a) => t("fault_detail.band_refused", a), true],
    update_host: [(a) => t("fault_detail.update_host", a), false],
    update_band: [(a) => t("fault_detail.update_band", a), false],
  };
  const RAW_WHY = {
    low_disk: (a) => t("raw.low_disk", { ...a, free: size(a.free), keep: size(a.keep) }),
    cannot_write: (a) => t("raw.cannot_write", a),
  };
  const HELD = { store_refuses: (a) => t("held.store_refuses", a) };  // why the heartbeat is held back
  // What the daemon's config hands to whoever looks (exposures_msg: daemon/wiring.py), each with what to do.
  const EXPOSURE = {
    short_token: (a) => t("exposure.short_token", a),
    short_topic: (a) => t("exposure.short_topic", a),
    plain_ntfy: (a) => t("exposure.plain_ntfy", a),
    plain_ntfy_token: (a) => t("exposure.plain_ntfy_token", a),
    plain_webhook: (a) => t("exposure.plain_webhook", a),
    mqtt_no_tls: (a) => t("exposure.mqtt_no_tls", a),
    mqtt_no_login: (a) => t("exposure.mqtt_no_login", a),
    plain_page: (a) => t("exposure.plain_page", a),
    // a value of the config file taken as its bound: its reason is a page word of its own, bound_why.<why>
    // (one for each bound a value is taken as: tests/test_config_bounds.py checks every language has it)
    past_bound: (a) => t("exposure.past_bound", { ...a, why: t(`bound_why.${a.why}`) }),
  };
  const STATE_NAMES = {
    STREAMING: [t("state.connected"), "good"],
    STALE: [t("state.silent"), "mid"],
    CONNECTING: [t("connecting"), "mid"],
    SECURING: [t("connecting"), "mid"],
    SYNCING: [t("connecting"), "mid"],
    BACKOFF: [t("state.out_of_reach"), "bad"],
    DISCONNECTED: [t("state.disconnected"), "bad"],
    FAULT: [t("state.needs_attention"), "bad"],
  };

  const $ = (id) => document.getElementById(id);
  const state = { status: null, clusters: [], days: [], notes: [], summary: [], live: false, lastOk: 0, alertKey: "", zoneKey: "", bandAlertsOpen: false, ackOverTimer: null };

  // ---- small helpers ---------------------------------------------------------------

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
    return e;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- times ------------------------------------------------------------------------

  // Every time the page prints is a wall time of the daemon's zone, the one its pushes are worded
  // in (/api/status zone, daemon/api.py zone_json: its UTC offsets and abbreviations): a phone in
  // another zone said other times than the push it had just shown. Bare, as a clock reads, except
  // in the hour the clocks go back, where one wall time is two instants: there the daemon's
  // abbreviation follows it, "02:30 CEST" then "02:30 CET", as in the pushes (spasmwatch/clock.py
  // wall_text; the UTC offset where both passes have one abbreviation). Until the first status
  // (or from a daemon that sends no zone): the phone's zone, bare, as before.
  function zoneSpans() {
    return (state.status && state.status.zone && state.status.zone.spans) || [];
  }

  // The [from, offset s, abbreviation] that t (unix s) falls in; the first for a time before them all.
  function spanAt(spans, t) {
    let found = spans[0];
    for (const s of spans) if (s[0] <= t) found = s;
    return found;
  }

  // "UTC+09", "UTC+0830", "UTC" for none, as spasmwatch/clock.py utc_offset_text writes it.
  function utcOffset(seconds) {
    const minutes = Math.floor(Math.abs(seconds) / 60);
    if (!minutes) return "UTC";
    const two = (n) => String(n).padStart(2, "0");
    return `UTC${seconds < 0 ? "-" : "+"}${two(Math.floor(minutes / 60))}${minutes % 60 ? two(minutes % 60) : ""}`;
  }

  // The one helper for a time the page prints: t (unix s) by the Intl options, in the page's language.
  function wallTime(t, opts) {
    const spans = zoneSpans();
    if (!spans.length) return new Date(t * 1000).toLocaleTimeString(LOCALE, opts);
    const [, offset, abbr] = spanAt(spans, t);
    const text = new Date((t + offset) * 1000).toLocaleTimeString(LOCALE, { ...opts, timeZone: "UTC" });
    for (const [, other] of spans) {
      if (other === offset) continue;
      const twin = spanAt(spans, t + offset - other);  // the instant this wall time is on the other offset
      if (twin[1] === other) return `${text} ${abbr && abbr !== twin[2] ? abbr : utcOffset(offset)}`;
    }
    return text;
  }

  function hhmm(when) {
    return wallTime(when, { hour: "2-digit", minute: "2-digit" });
  }

  // The daemon's local day of t, to compare two times by (the phone's where no zone came).
  function wallDay(t) {
    const spans = zoneSpans();
    if (!spans.length) return new Date(t * 1000).toDateString();
    return new Date((t + spanAt(spans, t)[1]) * 1000).toISOString().slice(0, 10);
  }

  // What of the zone the page's times change with: its offsets and changes, not the first span's
  // start (the window's, which moves with each status).
  function zoneKey() {
    return JSON.stringify(zoneSpans().map((s, i) => (i ? s : s.slice(1))));
  }

  function percent(pct) {
    return new Intl.NumberFormat(LOCALE, { style: "percent" }).format(pct / 100);
  }

  // A disk's size rounded as the daemon's rawkeep.size_text rounds it (412 MB, 1.5 GB, 0.3 MB),
  // written the language's way ("1,5 GB", "412 Mo").
  function size(bytes) {
    const MB = 1e6;
    const [value, unit, digits] = bytes >= 1000 * MB ? [bytes / (1000 * MB), "gigabyte", 1]
      : [bytes / MB, "megabyte", bytes < 10 * MB ? 1 : 0];
    return new Intl.NumberFormat(LOCALE, { style: "unit", unit, maximumFractionDigits: digits }).format(value);
  }

  // The daemon's English words under "Technical details", closed: for whoever sets the band up.
  function tech(english) {
    return el("details", { class: "tech" }, el("summary", { text: t("tech") }), el("span", { text: english }));
  }

  function duration(s) {
    s = Math.max(0, Math.round(s));
    if (s < 60) return t("under_minute");
    const m = Math.floor(s / 60);
    if (m < 60) return t("min", { m });
    const h = Math.floor(m / 60);
    return m % 60 ? t("h_min", { h, m: m % 60 }) : t("h", { h });
  }

  function ago(when, now) {
    const s = Math.max(0, now - when);
    if (s < 60) return t("just_now");
    return t("ago", { span: duration(s) });
  }

  function who() {
    try { return (localStorage.getItem(WHO_KEY) || "").trim(); } catch (e) { return ""; }
  }

  function bandName(device) {
    const bands = (state.status && state.status.bands) || [];
    const b = bands.find((x) => x.device === device);
    return (b && b.name) || device || t("band_fallback");
  }

  // A read with no answer this long fails, and the page says it cannot reach the daemon (ms). A
  // daemon's computer that hung or left the Wi-Fi keeps its sockets open: the 30 s status read
  // waited as long as TCP retried (~15 min), the page saying "Live" over the night's last state.
  // The slowest read, 366 days, takes ~2 s (docs/web.md); a POST (a test alarm tries every
  // channel) is not cut short.
  const READ_TIMEOUT_MS = 15000;
  // "This alert had already ended" (or "is not open now") stays this long after the tap it answers: read at arm's length
  // by a parent woken at night, then gone (nothing to act on).
  const ACK_OVER_SHOWN_MS = 20000;
  // The daemon's refusals of an ack said calmly (ackCalm), by their code: the words of each. An alert
  // over says who had acknowledged it (the 409's acked_by), which the parent who tapped wants to know.
  const ACK_CALM = {
    alert_over: (err) => (err.answer && typeof err.answer.acked_by === "string"
      ? t("alert_over_acked", { by: err.answer.acked_by }) : t("alert_over")),
    store_not_open: () => t("ack_not_open"),
  };

  // The id of the page files of the daemon that answered first (X-Spasmwatch-Page, daemon/http.py
  // page_id). Another is a daemon restarted on another version (an upgrade, a rollback), whose API
  // this page's code may not read: the page at the bedside, open across the upgrade, loads that
  // version's instead of showing the night with the old one's.
  let pageId = null;

  function checkPage(r) {
    const id = r.headers.get("X-Spasmwatch-Page");
    if (!id) return;
    if (pageId === null) pageId = id;
    else if (id !== pageId) location.reload();
  }

  async function api(path, body) {
    const opts = { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" };
    let timeout = null;
    if (body !== undefined) {
      opts.method = "POST";
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    } else {
      const abort = new AbortController();
      opts.signal = abort.signal;
      timeout = setTimeout(() => abort.abort(), READ_TIMEOUT_MS);
    }
    let r;
    try { r = await fetch(path, opts); } finally { clearTimeout(timeout); }
    checkPage(r);
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) {
      const msg = (data && data.error) || `${r.status} ${r.statusText}`;
      const err = new Error(msg);
      err.status = r.status;
      err.code = data && data.code;  // the daemon's reason, worded here (ACK_CALM, showOffline)
      err.answer = data;  // (and what it names with it: an alert over's acked_by)
      throw err;
    }
    return data;
  }

  // ---- connection state -------------------------------------------------------------

  function setConn(kind, text) {
    const c = $("conn");
    if (c.dataset.state === kind && $("conn-text").textContent === text) return;
    c.dataset.state = kind;
    $("conn-text").textContent = text;
  }

  // The header's state while the daemon answers: "Live" with the stream open, else "Reconnecting…".
  function showReached() {
    setConn(state.live ? "live" : "connecting", state.live ? t("live") : t("reconnecting"));
  }

  function showOffline(err) {
    const o = $("offline");
    if (!err) { o.hidden = true; o.textContent = ""; return; }
    const since = state.lastOk ? ` ${t("last_update", { time: hhmm(state.lastOk / 1000) })}` : "";
    // A daemon that answers it cannot read its store (503 store_unreadable: its disk gone) is
    // reached, and its alarms work: said as that, the header left on the stream's state. Until
    // review h51 it was "Cannot reach spasmwatch" and "Offline", which sent the parent to look for
    // the computer or the Wi-Fi.
    const unread = err.status === 503 && err.code === "store_unreadable";
    if (err.status === 401) o.textContent = t("access_expired");
    else o.textContent = (unread ? t("store_unreadable") : t("cannot_reach")) + since;
    o.hidden = false;
    if (unread) showReached();
    else setConn("down", t("offline"));
  }

  // ---- loading ----------------------------------------------------------------------

  const loaders = {
    // Its open alerts alone, what the page shows: read at each band STATUS (every 10 s), the 200
    // closed ones the daemon keeps made each read ~100 KB, ~1 GB a day to a phone left open.
    status: async () => { state.status = await api("/api/status?alerts=open"); renderStatus(); },
    clusters: async () => { state.clusters = await api("/api/clusters"); renderClusters(); },
    days: async () => { state.days = await api("/api/days?n=14"); renderChart(); },
    notes: async () => { state.notes = await api("/api/notes"); renderNotes(); },
    // ~0.3 s of store reading on the daemon: on a cluster message and the 5-minute refresh, never on a status one.
    summary: async () => { state.summary = await api("/api/summary"); renderSummary(); },
  };

  let pending = new Set();
  let timer = null;
  let running = null;

  function refresh(...what) {
    for (const w of what.length ? what : Object.keys(loaders)) pending.add(w);
    if (timer === null) timer = setTimeout(flush, 80);  // coalesce a burst of updates
  }

  async function flush() {
    timer = null;
    if (running) { await running; }
    const todo = [...pending];
    pending = new Set();
    if (!todo.length) return;
    running = Promise.all(todo.map((w) => loaders[w]()))
      .then(() => {
        state.lastOk = Date.now();
        showOffline(null);
        showReached();
        $("updated").textContent = t("updated", { time: wallTime(Date.now() / 1000, { hour: "2-digit", minute: "2-digit", second: "2-digit" }) });
      })
      .catch((err) => { showOffline(err); for (const w of todo) pending.add(w); })
      .finally(() => { running = null; });
    await running;
    document.body.dataset.loaded = "1";
  }

  // ---- alert ------------------------------------------------------------------------

  function openAlerts() {
    const alerts = [...((state.status && state.status.alerts) || [])];  // the open ones (?alerts=open)
    alerts.sort((a, b) => (ALERT_RANK[a.state] ?? 9) - (ALERT_RANK[b.state] ?? 9) || b.created_t - a.created_t);
    return alerts;
  }

  function canAck(a) {
    return !a.acked_by && a.state !== "ACKNOWLEDGED";
  }

  function ackButton(a, big) {
    return el("button", {
      type: "button",
      class: `btn ack-btn${big ? " wide" : ""}`,
      "data-alert-id": a.id,
      "aria-label": t("ack_label", { title: a.title || t("alert_fallback") }),
      onclick: (ev) => acknowledge(a, ev.currentTarget),
      text: t("ack"),
    });
  }

  function clusterFacts(a) {
    const bits = [];
    // "spasm-like", as the alarm's own words: "9 spasms" read as a count the band had confirmed.
    if (a.count) bits.push(tn("spasms", a.count));
    if (a.started_t) bits.push(t("since", { time: hhmm(a.started_t) }));
    if (a.post_wake_s !== null && a.post_wake_s !== undefined) bits.push(t("after_waking", { min: Math.round(a.post_wake_s / 60) }));
    return bits.join(" · ");
  }

  // The cluster alarms (or the all-clear) in the alarm's region, assertive and read whole
  // (index.html #alert); the band alerts beside it, each in a region of its own (renderBandAlerts).
  function renderAlert() {
    const area = $("alert");
    const alerts = openAlerts();
    const clusterAlerts = alerts.filter((a) => a.kind === "cluster");
    const bandAlerts = alerts.filter((a) => a.kind !== "cluster");
    renderBandAlerts(bandAlerts);
    // Re-render only on change, so a screen reader announces the alarm once (a band alert's change is not one).
    const key = JSON.stringify([clusterAlerts.map((a) => [a.id, a.state, a.acked_by, a.count, a.text, a.label]), !bandAlerts.length]);
    if (key === state.alertKey && area.childElementCount) return;
    state.alertKey = key;
    const nodes = clusterAlerts.map((a) => {
      const cls = a.state === "ALARM" || a.state === "ESCALATED" ? "alarm" : a.state === "WARNING" ? "warning" : "ack";
      const facts = clusterFacts(a);
      return el("div", { class: `alert ${cls}`, "data-alert-id": a.id, "data-state": a.state },
        el("h2", { text: a.title || t("cluster_title") }),
        a.text ? el("p", { class: "alert-text", text: a.text }) : null,
        facts ? el("p", { class: "facts", text: facts }) : null,
        a.acked_by || a.state === "ACKNOWLEDGED"
          ? el("p", { class: "acked", text: a.acked_by ? t("acked_by", { by: a.acked_by }) : t("acked") })
          : null,
        a.label === "false_alarm" ? el("p", { class: "acked", text: t("marked_false") }) : null,
        canAck(a) ? ackButton(a, true) : null);
    });
    if (!nodes.length && !bandAlerts.length && state.status) {
      nodes.push(el("div", { class: "alert quiet", "data-state": "QUIET" },
        el("span", { class: "check", "aria-hidden": "true", text: "✓" }),
        el("p", { text: t("no_alert") })));
    }
    area.replaceChildren(...nodes);
  }

  // Band alerts at once from which they fold under one line ("3 band alerts", Show): at 360x640
  // three (141 px each) filled the screen under the alarm from 475 to 920 px, the band card and the
  // red banners below it; one fits under the alarm.
  const BAND_ALERTS_FOLD_AT = 2;
  const bandAlertKeys = new WeakMap();  // a band alert's node -> the words it shows

  // Each band alert is a polite region of its own (role=status, read whole), kept from one update to
  // the next and re-drawn only when its own words change: in the alarm's one assertive region, a
  // battery alert's update read the alarm and every band alert out again. #band-alerts-count, a
  // region always there, says how many (shown as the folded line; for a screen reader only when one).
  function renderBandAlerts(alerts) {
    const list = $("band-alerts-list");
    const old = new Map([...list.children].map((e) => [e.dataset.alertId, e]));
    const nodes = alerts.map((a) => bandAlert(a, old.get(String(a.id))));
    for (const e of old.values()) if (!nodes.includes(e)) e.remove();
    nodes.forEach((e, i) => { if (list.children[i] !== e) list.insertBefore(e, list.children[i] || null); });
    const count = $("band-alerts-count");
    const words = alerts.length ? tn("band_alerts", alerts.length) : "";
    if (count.textContent !== words) count.textContent = words;
    const folded = alerts.length >= BAND_ALERTS_FOLD_AT;
    if (!folded) state.bandAlertsOpen = false;  // the next fold starts closed, the alarm first
    $("band-alerts").classList.toggle("folded", folded);
    $("band-alerts-toggle").hidden = !folded;
    showBandAlerts(!folded || state.bandAlertsOpen);
  }

  function showBandAlerts(open) {
    const toggle = $("band-alerts-toggle");
    $("band-alerts-list").hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? t("hide_band_alerts") : t("show_band_alerts");
  }

  function toggleBandAlerts() {
    state.bandAlertsOpen = !state.bandAlertsOpen;
    showBandAlerts(state.bandAlertsOpen);
  }

  function bandAlert(a, node) {
    const title = a.title || `${bandName(a.device)}: ${faultName(a.kind)}`;
    const key = JSON.stringify([a.state, title, a.text, a.acked_by, canAck(a)]);
    node = node || el("div", { class: "alert band", role: "status", "aria-atomic": "true", "data-alert-id": a.id });
    if (bandAlertKeys.get(node) === key) return node;
    bandAlertKeys.set(node, key);
    node.dataset.state = a.state;
    node.replaceChildren(...[
      el("h2", { text: title }),
      a.text ? el("p", { class: "alert-text", text: a.text }) : null,
      a.acked_by ? el("p", { class: "acked muted", text: t("seen_by", { by: a.acked_by }) }) : null,
      canAck(a) ? ackButton(a, false) : null,
    ].filter((e) => e));
    return node;
  }

  async function acknowledge(a, button) {
    button.disabled = true;
    button.textContent = t("acking");
    try {
      // The ack changes the alert (its acked_by, a cluster's state): the status re-draws it alone. A
      // forced re-draw of the alarm's region read the alarm out again for a band alert's ack.
      await api(`/api/alerts/${encodeURIComponent(a.id)}/ack`, { by: who() });
      refresh("status", "clusters");
    } catch (err) {
      // (own keys only: a code such as "constructor" is no word of ours)
      if (Object.prototype.hasOwnProperty.call(ACK_CALM, err.code || "")) { ackCalm(ACK_CALM[err.code](err)); return; }
      button.disabled = false;
      button.textContent = t("ack");
      alertError(err);
    }
  }

  // The alert ended before the ack came (409 alert_over), the page showing it still; or the daemon
  // holds it no more and cannot read in its store whether it ended (503 store_not_open: nothing was
  // saved, and no alert of it sounds). Said calmly, not as a failure (until review h48: "Not saved:
  // no alert 7" in red; until review h49 "Not saved: the store cannot be read: ..."), and the page
  // re-read, which takes the card away. The words stay a while, then go: they answer the tap.
  function ackCalm(said) {
    const o = $("ack-over");
    o.textContent = said;
    o.hidden = false;
    clearTimeout(state.ackOverTimer);
    state.ackOverTimer = setTimeout(() => { o.hidden = true; }, ACK_OVER_SHOWN_MS);
    refresh("status", "clusters");
  }

  function alertError(err) {
    if (!err.status) { showOffline(err); return; }
    const o = $("offline");
    o.textContent = t("not_saved", { error: err.message });
    o.hidden = false;
  }

  // ---- bands ------------------------------------------------------------------------

  // opts.asOf: the "last known at ..." line of a value that is not now's (renderBands).
  function fact(label, value, opts) {
    opts = opts || {};
    const values = [...(Array.isArray(value) ? value : [value]), ...(opts.asOf ? [opts.asOf] : [])];
    return el("div", { class: `fact${opts.wide ? " wide" : ""}${opts.low ? " low" : ""}${opts.asOf ? " stale" : ""}`, "data-fact": opts.name },
      el("dt", { text: label }), el("dd", null, ...values));
  }

  function renderBands() {
    const st = state.status;
    const bands = (st && st.bands) || [];
    const now = (st && st.now) || Date.now() / 1000;
    const box = $("bands");
    if (!bands.length) {
      box.replaceChildren(el("p", { class: "muted", text: t("no_band") }));
      return;
    }
    $("bands-h").textContent = bands.length > 1 ? t("bands") : t("band");
    box.replaceChildren(...bands.map((b) => {
      const [stateText, tone] = b.connected
        ? (STATE_NAMES[b.state] && b.state !== "STREAMING" ? STATE_NAMES[b.state] : [t("state.connected"), "good"])
        : (STATE_NAMES[b.state] || [b.state ? String(b.state).toLowerCase() : t("unknown"), "bad"]);
      const pct = typeof b.battery_pct === "number" ? Math.round(b.battery_pct) : null;
      let battery = "—";
      if (pct !== null) {
        const fill = el("span");
        fill.style.width = `${Math.max(0, Math.min(100, pct))}%`;  // CSSOM: allowed by the CSP, unlike style=""
        battery = el("span", { class: "battery" }, el("span", { text: percent(pct) }), el("span", { class: "meter", "aria-hidden": "true" }, fill));
      }
      // Out of reach, or connected and silent (STALE): worn, sleep and battery are the band's last
      // report's, of last_known_at (the daemon decides it: api.last_known_at, as 'spasmwatch status'
      // says it). Shown as now's, "Worn: Yes" and a sleep "for 2 h" growing with no band read at 3 a.m.
      // as the baby watched (scripted night): each says when it was last known, the sleep no span.
      const asOf = (known) => (known && b.last_known_at
        ? el("span", { class: "sub", text: t("last_known", { time: hhmm(b.last_known_at), seen: ago(b.last_known_at, now) }) })
        : null);
      const worn = b.worn === true ? t("yes") : b.worn === false ? t("not_on_baby") : t("unknown");
      let sleep = t("unknown");
      if (b.asleep === true || b.asleep === false) {
        const since = b.sleep_since && (b.asleep ? t("asleep_since", { time: hhmm(b.sleep_since) }) : t("awake_since", { time: hhmm(b.sleep_since) }));
        sleep = since && !b.last_known_at
          ? [since, el("span", { class: "sub", text: t("for", { span: duration(now - b.sleep_since) }) })]
          : since || (b.asleep ? t("asleep") : t("awake"));
      }
      const seen = b.last_seen ? ago(b.last_seen, now) : t("never");
      const faults = (b.faults || []).filter((f) => f);
      return el("div", { class: "band", "data-device": b.device || "" },
        el("div", { class: "band-head" },
          el("span", { class: "band-name", text: b.name || b.device || t("band") }),
          el("span", { class: `pill ${tone}`, "data-connected": b.connected ? "yes" : "no", text: stateText })),
        el("dl", { class: "facts-grid" },
          fact(t("battery"), battery, { name: "battery", low: pct !== null && pct <= 15, asOf: asOf(pct !== null) }),
          fact(t("worn"), worn, { name: "worn", low: b.worn === false, asOf: asOf(b.worn === true || b.worn === false) }),
          fact(t("sleep"), sleep, { name: "sleep", wide: true, asOf: asOf(b.asleep === true || b.asleep === false) })),
        el("p", { class: "seen muted small", "data-fact": "seen", text: t("last_heard", { seen }) }),
        faults.length ? el("ul", { class: "faults", "aria-label": t("band_problems") },
          ...faults.map((f) => el("li", { text: faultName(f) }))) : null,
        // A fault only a person can clear says what to do (a band that will not pair: switch it off and on).
        b.state === "FAULT" && b.detail ? faultDetail(b) : null,
        // Why it does not connect: this computer with no Bluetooth read as "Out of reach" alone.
        !b.connected && b.state !== "FAULT" && b.last_error ? whyNot(b) : null,
        b.muted_until ? muteBox(b, now) : null,
        // A flapping link raises no "band disconnected" (each reconnect clears its timer): said here.
        b.link_unstable ? el("p", { class: "link-unstable small", "data-fact": "link",
          text: t("link_unstable", { n: b.link_unstable.drops, min: Math.max(1, Math.round(b.link_unstable.over_s / 60)) }) }) : null,
        // For the engineer: a configured rate the band would not take (its IMU has no such step); monitored at its own.
        b.rate_not_taken ? el("p", { class: "rate-not-taken muted small", "data-fact": "rate",
          text: t("rate_not_taken", { hz: b.rate_not_taken.running_hz === null ? "?" : b.rate_not_taken.running_hz,
            configured: b.rate_not_taken.configured_hz }) }) : null,
        // A band whose firmware is not this computer's: to be flashed, or, newer by git's history
        // (firmware_age), this computer to be updated instead; monitored meanwhile.
        b.firmware_old ? el("p", { class: "firmware-old small", "data-fact": "firmware",
          text: b.firmware_age === "newer" ? t("firmware_newer") : t("firmware_old") }) : null,
        // For researchers: their recording has a gap from here (low disk, a file that cannot be written).
        b.raw_paused ? el("p", { class: "raw-paused small", "data-fact": "raw",
          text: t("raw_paused", { time: hhmm(b.raw_paused.since), why: rawWhy(b.raw_paused) }) }) : null);
    }));
    scheduleMuteEnd(bands, now);
    // The band choice of the note form.
    const sel = $("note-device");
    const cur = sel.value;
    sel.replaceChildren(...bands.filter((b) => b.device).map((b) => el("option", { value: b.device, text: b.name || b.device })));
    if (cur) sel.value = cur;
    $("note-device-row").hidden = bands.length < 2;
  }

  // A damaged store names the command that recovers the daemon's own store, with its path
  // (/api/status store.recover): the family's shell may not have the daemon's store path. A store
  // with a way out of its own (store.way, store.command: recover refuses it, or a column added by
  // hand stops its update) names that one, where the fault has a text for it.
  function faultName(f) {
    const st = state.status && state.status.store;
    const way = st && st.way && `fault.${f}.${st.way}`;
    if (way && WORDS[way] !== undefined) return t(way, { command: st.command || "" });
    if (f === "store_damaged") return t("fault.store_damaged", { command: (st && st.recover) || "" });
    return FAULT_NAMES[f] || f;
  }

  // A daemon that sends no key (from before them) is shown in its English words, as it was.
  function faultDetail(b) {
    const msg = b.detail_msg && FAULT_DETAIL[b.detail_msg.key];
    const text = msg ? msg[0](b.detail_msg.args || {}) : b.detail.charAt(0).toUpperCase() + b.detail.slice(1) + ".";
    return el("div", { class: "fault-detail small", "data-fact": "fault" }, el("p", { text }), msg && msg[1] ? tech(b.detail) : null);
  }

  function whyNot(b) {
    const why = b.last_error_msg && WHY[b.last_error_msg.key];
    return el("div", { class: "fault-detail small", "data-fact": "why" },
      el("p", { text: t("not_connecting", { error: why || b.last_error }) }), why ? tech(b.last_error) : null);
  }

  function rawWhy(raw) {
    const words = raw.why_msg && RAW_WHY[raw.why_msg.key];
    return words ? words(raw.why_msg.args || {}) : raw.why;
  }

  // A mute set for a bath and forgotten holds back "not worn" and "disconnected": say so on the card.
  function muteText(b, now) {
    const today = wallDay(b.muted_until) === wallDay(now);  // else tomorrow: at most a day
    const vars = { time: hhmm(b.muted_until), by: b.muted_by ? t("muted_by", { by: b.muted_by }) : "" };
    return today ? t("muted", vars) : t("muted_tomorrow", vars);
  }

  function muteBox(b, now) {
    return el("div", { class: "mute", "data-fact": "mute" },
      el("p", { text: muteText(b, now) }),
      el("button", {
        type: "button",
        class: "btn",
        "aria-label": t("end_mute_label", { band: b.name || b.device }),
        onclick: (ev) => endMute(b, ev.currentTarget),
        text: t("end_mute"),
      }));
  }

  async function endMute(b, button) {
    button.disabled = true;
    try {
      await api(`/api/bands/${encodeURIComponent(b.device)}/mute`, { for_s: 0, by: who() });
      refresh("status");
    } catch (err) {
      button.disabled = false;
      alertError(err);
    }
  }

  // Re-read the status when the first mute ends, so the card does not claim a mute that is over.
  let muteTimer = null;
  function scheduleMuteEnd(bands, now) {
    if (muteTimer !== null) { clearTimeout(muteTimer); muteTimer = null; }
    const ends = bands.filter((b) => b.muted_until).map((b) => b.muted_until - now);
    if (ends.length) muteTimer = setTimeout(() => { muteTimer = null; refresh("status"); }, Math.max(0, Math.min(...ends)) * 1000 + 1000);
  }

  // A phone that gets no alarms must be seen here, not only in the journal. It said "the other
  // channels still work" when every one failed, and "internet" to a speaker with no player.
  function renderChannels() {
    const failing = (state.status && state.status.channels_failing) || [];
    const box = $("channels-failing");
    box.hidden = !failing.length;
    box.textContent = failing.length
      ? t("channels_failing", { channels: failing.map((c) => t("channel_failing", { channel: c.channel, time: hhmm(c.since), error: c.error })).join(", ") })
        + " " + (failing.some((c) => c.network !== false) ? t("channels_check_net") : t("channels_check"))
        + othersWords(state.status.channels, failing)
      : "";
    // Failed under settings changed since (a new server): not failing, nor known to deliver until
    // it sends. Said only by 'spasmwatch status' at first: the page looked as if it delivered.
    const changed = (state.status && state.status.channels_changed) || [];  // (a daemon from before the field: none)
    const note = $("channels-changed");
    note.hidden = !changed.length;
    note.textContent = changed.length
      ? t("channels_changed", { channels: changed.map((c) => t("channel_changed", { channel: c.channel, time: hhmm(c.since), error: c.error })).join(", ") })
      : "";
  }

  // What still carries an alarm (nothing said by a daemon from before the list of channels).
  function othersWords(channels, failing) {
    if (!channels) return "";
    const names = new Set(failing.map((c) => c.channel));
    const working = channels.filter((c) => !names.has(c));
    return working.length
      ? ` ${t("channels_others", { channels: working.join(", ") })}`
      : ` ${t("channels_none")}`;
  }

  // The dead man's switch ([daemon.heartbeat]) that tells the phones when this computer goes off:
  // while its pings fail or are held back, nobody would hear of that.
  function renderHeartbeat() {
    const hb = state.status && state.status.heartbeat;
    const box = $("heartbeat-failing");
    const held = hb && hb.paused && (hb.paused_msg && HELD[hb.paused_msg.key] ? HELD[hb.paused_msg.key](hb.paused_msg.args || {}) : hb.paused);
    const why = hb && (held || (hb.error && t("heartbeat_failing", { time: hhmm(hb.failing_since), error: hb.error })));
    box.hidden = !why;
    box.textContent = why
      ? (held ? t("heartbeat_held", { host: hb.host, why }) : t("heartbeat", { host: hb.host, why }))
        + " " + t("heartbeat_off")
      : "";
  }

  // A config edit the daemon could not load: it runs on the config it had (a phone added in
  // that edit gets nothing) until the file is fixed and reloaded: by the reload of the daemon's own
  // config (config_error.reload, with its --config; a bare one asks the default config's daemon).
  function renderConfig() {
    const err = state.status && state.status.config_error;
    const box = $("config-error");
    box.hidden = !err;
    box.textContent = err
      ? t("config_error", { time: hhmm(err.since), error: err.error, command: err.reload })
      : "";
  }

  // The store the daemon could not open: it monitors without it, nothing is saved until it opens.
  function renderStore() {
    const st = state.status && state.status.store;
    const box = $("store-error");
    box.hidden = !st;
    box.textContent = st ? t("store_error", { time: hhmm(st.since), error: st.error }) : "";
  }

  // What to put right that is no alarm, as 'spasmwatch status' says it (the monitor works meanwhile):
  // what the config hands to whoever looks (exposures; a daemon from before exposures_msg: its
  // English), code upgraded under the running daemon (code_changed) and settings changed in the
  // file that only a restart applies (config_needs_restart), with how to restart it.
  function noticeWords(st) {
    const msgs = st.exposures_msg || [];
    const words = (st.exposures || []).map((english, i) => {
      const said = msgs[i] && EXPOSURE[msgs[i].key];
      return said ? said(msgs[i].args || {}) : english;
    });
    const restart = st.restart || t("restart_by_hand");
    if (st.code_changed) words.push(t("old_code", { restart }));
    const keys = st.config_needs_restart || [];
    if (keys.length) words.push(t("config_restart", { keys: keys.join(", "), restart }));
    return words;
  }

  // Each notice's node is kept while its words stay (the list is a polite live region): a screen
  // reader reads a notice when it comes, not again at each status read.
  function renderNotices() {
    const words = state.status ? noticeWords(state.status) : [];
    const list = $("notices-list");
    const old = new Map([...list.children].map((e) => [e.textContent, e]));
    const nodes = words.map((w) => old.get(w) || el("li", { text: w }));
    for (const e of old.values()) if (!nodes.includes(e)) e.remove();
    nodes.forEach((e, i) => { if (list.children[i] !== e) list.insertBefore(e, list.children[i] || null); });
    $("notices").hidden = !words.length;
  }

  function renderStatus() {
    // A zone that came or changed words every time already shown again (an empty list shows none).
    const zone = zoneKey();
    if (zone !== state.zoneKey) {
      state.zoneKey = zone;
      state.alertKey = "";
      if (state.clusters.length) renderClusters();
      if (state.notes.length) renderNotes();
    }
    renderAlert();
    renderBands();
    renderStore();
    renderConfig();
    renderChannels();
    renderHeartbeat();
    renderNotices();
  }

  // ---- clusters ---------------------------------------------------------------------

  function renderClusters() {
    const list = [...state.clusters].sort((a, b) => b.start - a.start);
    const multi = ((state.status && state.status.bands) || []).length > 1;
    $("clusters-empty").hidden = list.length > 0;
    $("clusters").replaceChildren(...list.map((c) => {
      const wake = c.post_wake_s === null || c.post_wake_s === undefined
        ? t("waking_unknown") : t("after_waking", { min: Math.round(c.post_wake_s / 60) });
      const labelBtn = (value, text) => el("button", {
        type: "button",
        class: `btn ${value}`,
        "aria-pressed": c.label === value ? "true" : "false",
        "data-label": value,
        onclick: (ev) => setLabel(c, value, ev.currentTarget),
        text,
      });
      return el("li", { class: "cluster", "data-cluster-id": c.id, "data-label": c.label || "" },
        el("div", { class: "cluster-line" },
          el("span", { class: "cluster-time", text: hhmm(c.start) }),
          el("span", { class: "cluster-count", text: tn("spasms", c.count) }),
          c.closed ? null : el("span", { class: "cluster-state", text: t("ongoing") })),
        el("div", { class: "cluster-wake", text: multi ? `${wake} · ${bandName(c.device)}` : wake }),
        el("div", { class: "labels", role: "group", "aria-label": t("label_cluster", { time: hhmm(c.start) }) },
          labelBtn("confirmed", t("confirmed")),
          labelBtn("false_alarm", t("false_alarm"))));
    }));
  }

  async function setLabel(c, label, button) {
    if (c.label === label) return;
    const group = button.parentElement;
    for (const b of group.querySelectorAll("button")) b.disabled = true;
    try {
      const updated = await api(`/api/clusters/${encodeURIComponent(c.id)}/label`, { label, by: who() });
      const i = state.clusters.findIndex((x) => x.id === c.id);
      if (i >= 0 && updated && typeof updated === "object") state.clusters[i] = { ...state.clusters[i], ...updated, label };
      renderClusters();
      refresh("clusters", "days", "status");
    } catch (err) {
      for (const b of group.querySelectorAll("button")) b.disabled = false;
      alertError(err);
    }
  }

  // ---- 14-day chart -----------------------------------------------------------------

  function renderChart() {
    const days = state.days || [];
    const box = $("chart");
    const W = 360, H = 170, left = 22, right = 4, top = 16, bottom = 30;
    const plotW = W - left - right, plotH = H - top - bottom;
    const max = Math.max(1, ...days.map((d) => d.clusters || 0));
    const step = max <= 4 ? 1 : max <= 10 ? 2 : Math.ceil(max / 5);
    const yMax = Math.ceil(max / step) * step;
    const y = (v) => top + plotH - (v / yMax) * plotH;
    const n = Math.max(days.length, 1);
    const slot = plotW / n, barW = Math.min(18, slot * 0.64);

    const total = days.reduce((s, d) => s + (d.clusters || 0), 0);
    const falseTotal = days.reduce((s, d) => s + (d.false_alarms || 0), 0);
    const today = days.length ? days[days.length - 1] : null;
    const counts = { days: days.length, total, false: falseTotal };
    const summary = today ? t("chart_today", { ...counts, today: today.clusters }) : t("chart", counts);

    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": summary });
    s.append(svg("title", {}, summary));
    const defs = svg("defs");
    const pat = svg("pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
    pat.append(svg("rect", { class: "hatch-bg", width: 6, height: 6 }), svg("line", { class: "hatch-line", x1: 0, y1: 0, x2: 0, y2: 6 }));
    defs.append(pat);
    s.append(defs);

    for (let v = 0; v <= yMax; v += step) {
      s.append(svg("line", { class: v === 0 ? "axis" : "grid", x1: left, x2: W - right, y1: y(v), y2: y(v) }));
      s.append(svg("text", { x: left - 6, y: y(v) + 3.5, "text-anchor": "end" }, String(v)));
    }
    days.forEach((d, i) => {
      const cx = left + slot * i + slot / 2;
      const x = cx - barW / 2;
      const all = d.clusters || 0;
      const fa = Math.min(d.false_alarms || 0, all);
      const real = all - fa;
      // A day with the band never worn and heard from (GET /api/days no_data): a dash, not an empty
      // slot, so it does not read as a day of no clusters (hostile review).
      const g = svg("g", { "data-date": d.date, "data-clusters": all, "data-false": fa, "data-nodata": d.no_data ? 1 : 0 });
      if (d.no_data) g.append(svg("text", { class: "nodata", x: cx, y: y(0) - 4, "text-anchor": "middle" }, "–"));
      if (real > 0) g.append(svg("rect", { class: "bar-real", x, y: y(real), width: barW, height: y(0) - y(real), rx: 2 }));
      if (fa > 0) g.append(svg("rect", { class: "bar-false", x, y: y(all), width: barW, height: y(real) - y(all), rx: 2 }));
      if (all > 0) g.append(svg("text", { class: "val", x: cx, y: y(all) - 4, "text-anchor": "middle" }, String(all)));
      const date = new Date(`${d.date}T12:00:00`);
      const isToday = i === days.length - 1;
      const label = isToday ? t("today") : String(date.getDate());
      g.append(svg("text", { class: isToday ? "today" : "", x: cx, y: H - bottom + 14, "text-anchor": "middle" }, label));
      if (!isToday && (i === 0 || date.getDate() === 1)) {
        g.append(svg("text", { x: cx, y: H - bottom + 26, "text-anchor": "middle" },
          date.toLocaleDateString(LOCALE, { month: "short" })));
      }
      const day = date.toLocaleDateString(LOCALE, { weekday: "short", day: "numeric", month: "short" });
      const said = d.no_data ? t("no_data") : `${tn("clusters", all)}${fa ? `, ${tn("false_alarms", fa)}` : ""}`;
      g.append(svg("title", {}, `${day}: ${said}`));
      s.append(g);
    });
    box.replaceChildren(s);
  }

  // ---- notes ------------------------------------------------------------------------

  // The daily summary's words for each band's last 24 h (GET /api/summary), named when there are several;
  // in the page's language (its "local" words; "text" is English, as a daemon from before them sent it).
  function renderSummary() {
    const box = $("summary");
    const items = state.summary || [];
    if (!items.length) { box.replaceChildren(el("p", { class: "muted", text: t("no_band_heard") })); return; }
    box.replaceChildren(...items.map((s) => el("p", { class: "summary-text", "data-device": s.device },
      items.length > 1 ? el("b", { text: `${s.name}: ` }) : null, s.local ? s.local.text : s.text)));
  }

  function renderNotes() {
    const list = [...state.notes].sort((a, b) => b.t - a.t);
    $("notes-empty").hidden = list.length > 0;
    $("notes").replaceChildren(...list.map((n) => el("li", { class: "note", "data-note-id": n.id },
      el("div", { class: "note-head" },
        el("span", { class: "note-time", text: hhmm(n.t) }),
        el("span", { class: "note-kind", text: KIND_NAMES[n.kind] || n.kind }),
        n.by ? el("span", { class: "note-by", text: n.by }) : null),
      n.text ? el("p", { class: "note-text", text: n.text }) : null)));
  }

  function selectedKind() {
    const r = document.querySelector('input[name="kind"]:checked');
    return r ? r.value : "note";
  }

  function updateNoteHint() {
    $("note-optional").textContent = selectedKind() === "note" ? t("required") : t("optional");
  }

  async function saveNote(ev) {
    ev.preventDefault();
    const kind = selectedKind();
    const msg = $("note-msg");
    let text = $("note-text").value.trim();
    if (!text && kind === "note") {
      msg.className = "form-msg bad";
      msg.textContent = t("write_first");
      $("note-text").focus();
      return;
    }
    if (!text) text = KIND_NAMES[kind];
    const bands = ((state.status && state.status.bands) || []).filter((b) => b.device);
    const device = bands.length > 1 ? $("note-device").value : bands.length === 1 ? bands[0].device : null;
    const btn = $("note-save");
    btn.disabled = true;
    msg.className = "form-msg";
    msg.textContent = t("saving");
    try {
      const note = await api("/api/notes", { kind, text, device, by: who() });
      $("note-text").value = "";
      msg.className = "form-msg ok";
      msg.textContent = t("saved_at", { time: hhmm(note && note.t ? note.t : Date.now() / 1000) });
      if (note && note.id !== undefined && !state.notes.some((n) => n.id === note.id)) state.notes.push(note);
      renderNotes();
      refresh("notes");
    } catch (err) {
      msg.className = "form-msg bad";
      msg.textContent = t("not_saved", { error: err.message });
    } finally {
      btn.disabled = false;
    }
  }

  // The family checks that an alarm reaches each phone and speaker (POST /api/test-alarm, one try each).
  async function testAlarm() {
    const btn = $("test-alarm");
    const msg = $("test-alarm-msg");
    btn.disabled = true;
    msg.className = "form-msg";
    msg.textContent = t("test_sending");
    try {
      const out = await api("/api/test-alarm", { channel: null, by: who() });
      // A sound played ("heard") is not said sent: its player exits 0 with no speaker plugged in.
      const sent = out.results.filter((r) => r.ok && !r.heard).map((r) => r.channel);
      const heard = out.results.filter((r) => r.ok && r.heard);
      const bad = out.results.filter((r) => !r.ok);
      msg.className = bad.length ? "form-msg bad" : "form-msg ok";
      msg.textContent = [
        ...(sent.length ? [t("test_sent", { channels: sent.join(", ") })] : []),
        ...heard.map((r) => t("test_heard", { channel: r.channel })),
        ...bad.map((r) => t("test_failed", { channel: r.channel, error: r.error })),
      ].join(" ");
      refresh("status");
    } catch (err) {
      msg.className = "form-msg bad";
      msg.textContent = t("test_not_sent", { error: err.message });
    } finally {
      btn.disabled = false;
    }
  }

  // ---- live updates -----------------------------------------------------------------

  const NEEDS = {
    status: ["status"],
    alert: ["status", "clusters"],
    cluster: ["status", "clusters", "days", "summary"],
    note: ["status", "notes"],
    // One per spasm the band reports: a cluster it changes comes as its own "cluster" message.
    event: ["status"],
  };

  // A stream refused (503: the daemon's MAX_STREAMS live pages are open) is closed for good by the
  // browser, which retries only a dropped one: it is opened again this often (ms), as the status
  // is read. The page stayed "Reconnecting…" all night, its clusters and notes read every 5 min.
  const STREAM_RETRY_MS = 30000;

  function connect() {
    if (!window.EventSource) { setConn("connecting", t("refreshing")); setInterval(() => refresh(), 10000); return; }
    const es = new EventSource("/api/stream");
    es.onopen = () => { state.live = true; setConn("live", t("live")); refresh(); };
    es.onmessage = (e) => {
      let m = null;
      try { m = JSON.parse(e.data); } catch (err) { m = null; }
      refresh(...(NEEDS[m && m.type] || Object.keys(loaders)));
    };
    es.onerror = () => {
      state.live = false;
      setConn("connecting", t("reconnecting"));
      // EventSource retries by itself; the status fetch tells whether the daemon is gone.
      refresh("status");
      if (es.readyState === EventSource.CLOSED) setTimeout(connect, STREAM_RETRY_MS);
    };
  }

  // ---- keeping the screen on -----------------------------------------------------------

  // A parent watching at night: once the phone's screen locks, its browser stops the page and no
  // alarm shows on it. The Screen Wake Lock API keeps it on, in a secure context only (HTTPS, or
  // this computer's own address): a LAN page over http:// says why not and what to run. The browser
  // gives the lock back whenever the page is hidden (another app over it, the screen turned off by
  // its button): shown again, it is asked for again. The choice is kept on the phone.
  const SCREEN_KEY = "spasmwatch.keep_screen_on";
  const screen = { want: false, lock: null, asking: false };

  function showScreen(st, words) {
    $("screen").dataset.state = st;
    const toggle = $("screen-toggle");
    toggle.setAttribute("aria-pressed", String(screen.want));
    toggle.textContent = screen.want ? t("screen.stop") : t("screen.keep");
    $("screen-msg").textContent = words;
  }

  // "on" only once the browser gave the lock; its release (the page hidden, or let go here) says so.
  async function holdScreen() {
    if (!screen.want || screen.lock || screen.asking || document.visibilityState !== "visible") return;
    screen.asking = true;
    try {
      const lock = await navigator.wakeLock.request("screen");
      lock.addEventListener("release", () => {
        screen.lock = null;
        showScreen(screen.want ? "paused" : "off", screen.want ? t("screen.paused") : t("screen.off"));
      });
      screen.lock = lock;
      if (screen.want) showScreen("on", t("screen.on"));
      else lock.release();  // let go while it was asked for
    } catch (err) {
      if (screen.want) showScreen("refused", t("screen.refused"));
    } finally {
      screen.asking = false;
    }
  }

  function toggleScreen() {
    screen.want = !screen.want;
    try { localStorage.setItem(SCREEN_KEY, screen.want ? "1" : "0"); } catch (e) { /* private mode */ }
    if (screen.want) holdScreen();
    else if (screen.lock) screen.lock.release();  // its release event says "off"
    else showScreen("off", t("screen.off"));
  }

  function startScreen() {
    const why = !window.isSecureContext ? t("screen.needs_https") : !("wakeLock" in navigator) ? t("screen.unsupported") : null;
    if (why) {
      $("screen-toggle").hidden = true;
      showScreen("unavailable", why);
      return;
    }
    try { screen.want = localStorage.getItem(SCREEN_KEY) === "1"; } catch (e) { screen.want = false; }
    showScreen("off", t("screen.off"));
    $("screen-toggle").addEventListener("click", toggleScreen);
    document.addEventListener("visibilitychange", holdScreen);
    holdScreen();
  }

  // ---- start ------------------------------------------------------------------------

  // The words index.html carries (English, as served before any script runs) in the page's language.
  function translatePage() {
    for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
    for (const e of document.querySelectorAll("[data-t-placeholder]")) e.placeholder = t(e.dataset.tPlaceholder);
    for (const e of document.querySelectorAll("[data-t-aria-label]")) e.setAttribute("aria-label", t(e.dataset.tAriaLabel));
    // The two button names stand out in bold, wherever the language puts them.
    const bold = { "{confirmed}": t("confirmed"), "{false_alarm}": t("false_alarm") };
    $("clusters-help").replaceChildren(...t("clusters_help").split(/(\{confirmed\}|\{false_alarm\})/)
      .filter((part) => part).map((part) => (part in bold ? el("b", { text: bold[part] }) : part)));
  }

  function start() {
    translatePage();
    // A ?token=... link has set the cookie; keep the token out of the address bar and history.
    if (new URLSearchParams(location.search).has("token")) history.replaceState(null, "", location.pathname);
    const whoInput = $("who");
    whoInput.value = who();
    whoInput.addEventListener("change", () => {
      try { localStorage.setItem(WHO_KEY, whoInput.value.trim()); } catch (e) { /* private mode */ }
    });
    $("note-form").addEventListener("submit", saveNote);
    $("test-alarm").addEventListener("click", testAlarm);
    startScreen();
    $("band-alerts-toggle").addEventListener("click", toggleBandAlerts);
    for (const r of document.querySelectorAll('input[name="kind"]')) r.addEventListener("change", updateNoteHint);
    updateNoteHint();
    refresh();
    connect();
    setInterval(() => refresh("status"), 30000);  // "since" times and a daemon that went away
    setInterval(() => refresh(), 5 * 60000);  // a new day
    document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
