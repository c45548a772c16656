// The Lumbung dashboard page: a snapshot, then live updates over Server-Sent Events.
// Stock cells keep their version and take only newer ones; orders their version; restock
// requests the rank of their status; alerts their id; a cell's foreseen stockout is its
// newest prediction, gone with its clearing or the cell running out; a suggested restock its
// restock_id, gone once its request (or closing) of that id comes. No framework, no CDN.
"use strict";

const T = {
  id: {
    title: "Papan Stok", connecting: "menghubungkan…", live: "langsung", offline: "terputus",
    channel: "Saluran", event: "Acara", all: "Semua", ok: "aman", low: "menipis", out: "habis",
    negative: "minus", stock: "Stok per gerai", hint: "tersedia / di tangan · penjualan per jam",
    alerts: "Peringatan", restocks: "Restok", orders: "Pesanan menunggu diambil",
    outlet: "Gerai", sales: "Terjual/jam", last: "terakhir", never: "belum ada",
    silent: "sepi", today: "hari ini", simulated: "simulasi", wall: "jam dinding",
    data_as_of: "data per", lag: "tertinggal", behind: "peristiwa belum terbaca",
    low_stock: "menipis", out_of_stock: "habis", back_in_stock: "tersedia lagi",
    negative_stock: "stok minus", unknown_sku: "SKU tak dikenal",
    return_refused: "retur ditolak", price_flagged: "harga menyimpang", sale: "penjualan",
    close_out_due: "hitung penutupan", booth_closed_out: "booth ditutup", sold_units: "terjual",
    left_over: "sisa", units: "unit", goes_home: "pulang",
    expiry_soon: "segera kedaluwarsa", expiry_expired: "kedaluwarsa", batch: "batch",
    return: "retur", void: "pembatalan", outlet_price: "harga gerai",
    sale_unknown: "penjualan tak dikenal", more_than_sold: "melebihi yang terjual",
    void_too_late: "pembatalan terlambat", void_not_whole: "pembatalan tidak utuh",
    open: "terbuka", accepted: "diterima", declined: "ditolak", overdue: "terlambat", closed: "selesai",
    foreseen: "segera habis", per_hour: "/jam", lead: "pemasok perlu", hours: "jam",
    placed: "menunggu", reserved: "disiapkan", pickup: "ambil",
    suggestions: "Restok yang disarankan", send: "Kirim", edit: "Ubah", save_send: "Simpan & kirim",
    cancel: "Batal", goes_out: "dikirim", going_out: "sedang dikirim…", minutes_left: "mnt lagi",
    left: "tersedia", sending: "mengirim…", already_sent: "sudah dikirim ke pemasok",
    not_found: "saran tidak ditemukan", failed: "gagal",
    transfers: "Saran pindah stok", accept: "Pindahkan", save_accept: "Simpan & pindahkan",
    moving: "dipindahkan", arrives: "tiba", supplier_at: "pemasok paling cepat",
    ikn_kiosk: "Kios IKN", rest_area: "Rest area", indomaret: "Indomaret",
    event_booth: "Booth acara", online: "Online", souvenir_center: "Pusat oleh-oleh",
  },
  en: {
    title: "Stock Board", connecting: "connecting…", live: "live", offline: "offline",
    channel: "Channel", event: "Event", all: "All", ok: "ok", low: "low", out: "out",
    negative: "negative", stock: "Stock per outlet", hint: "available / on hand · sales per hour",
    alerts: "Alerts", restocks: "Restocks", orders: "Orders waiting for pickup",
    outlet: "Outlet", sales: "Sold/hour", last: "last", never: "none yet",
    silent: "silent", today: "today", simulated: "simulated", wall: "wall clock",
    data_as_of: "data as of", lag: "lag", behind: "events not read yet",
    low_stock: "low", out_of_stock: "out of stock", back_in_stock: "back in stock",
    negative_stock: "negative stock", unknown_sku: "unknown SKU",
    return_refused: "return refused", price_flagged: "price off", sale: "sale",
    close_out_due: "closing count due", booth_closed_out: "booth closed", sold_units: "sold",
    left_over: "left", units: "units", goes_home: "going home",
    expiry_soon: "expires soon", expiry_expired: "expired", batch: "batch",
    return: "return", void: "void", outlet_price: "outlet price",
    sale_unknown: "sale not known", more_than_sold: "more than was sold",
    void_too_late: "void too late", void_not_whole: "void not of the whole sale",
    open: "open", accepted: "accepted", declined: "declined", overdue: "overdue", closed: "closed",
    foreseen: "running out", per_hour: "/h", lead: "supplier needs", hours: "h",
    placed: "waiting", reserved: "ready", pickup: "pickup",
    suggestions: "Suggested restocks", send: "Send", edit: "Edit", save_send: "Save & send",
    cancel: "Cancel", goes_out: "goes out", going_out: "going out…", minutes_left: "min left",
    left: "available", sending: "sending…", already_sent: "already with the supplier",
    not_found: "no such suggestion", failed: "failed",
    transfers: "Suggested transfers", accept: "Move", save_accept: "Save & move",
    moving: "on its way", arrives: "arrives", supplier_at: "supplier at the earliest",
    ikn_kiosk: "IKN kiosk", rest_area: "Rest area", indomaret: "Indomaret",
    event_booth: "Event booth", online: "Online", souvenir_center: "Souvenir centre",
  },
};
const SILENT_MS = 30 * 60 * 1000;
// A simulated day (`lumbung simulate` runs one at 600x) sells at times ahead of the wall
// clock. The page's clock then follows the newest thing that happened, says that it is
// simulated and shows the wall clock beside it, so no time on the page is ahead of its
// clock. A minute of slack leaves a till whose clock runs a little fast alone.
const SIMULATED_AFTER_MS = 60 * 1000;
// How old the data is ("data as of 14.02.31 WITA, lag 0.3 s"): the server says when it
// last had read everything; a stalled pipeline shows a lag that keeps growing, a quiet
// outlet a fresh time and no sales. Stale after this many seconds of lag.
const STALE_S = 10;

let lang = localStorage.getItem("lumbung.lang") || "id";
const key = (() => {
  const url = new URL(location.href);
  const given = url.searchParams.get("key");
  if (given) {
    sessionStorage.setItem("lumbung.key", given);
    url.searchParams.delete("key");
    history.replaceState(null, "", url.pathname + url.search);
  }
  return sessionStorage.getItem("lumbung.key") || "";
})();

const state = {
  outlets: [], products: {}, calendar: [], stock: {}, levels: {}, sales: {}, revenue: {},
  lastSeen: {}, alerts: [], alertIds: new Set(), orders: {}, restocks: {}, foresight: {}, now: null,
  happenedUntil: 0, freshness: null, freshAt: 0,
  suggestions: {}, editing: {}, notes: {},
  transfers: [], transferEditing: {}, transferNotes: {},
};
let dirty = false;

const t = (word) => (T[lang] && T[lang][word]) || word;
const $ = (id) => document.getElementById(id);
const rupiah = (n) => (n < 0 ? "-" : "") + "Rp " + String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
const wita = (iso) => !iso ? "" : new Date(iso).toLocaleTimeString(lang === "id" ? "id-ID" : "en-GB",
  { timeZone: "Asia/Makassar", hour: "2-digit", minute: "2-digit" }) + " WITA";
const dayOf = (ms) => new Date(ms).toLocaleDateString("en-CA", { timeZone: "Asia/Makassar" });
// "±14.20", or "±Sel 14.20" when it is not today (WITA): an ETA may be days ahead.
const eta = (iso) => {
  const at = Date.parse(iso), locale = lang === "id" ? "id-ID" : "en-GB";
  const time = new Date(at).toLocaleTimeString(locale, { timeZone: "Asia/Makassar", hour: "2-digit", minute: "2-digit" });
  const day = dayOf(at) === dayOf(boardNow()) ? "" :
    new Date(at).toLocaleDateString(locale, { timeZone: "Asia/Makassar", weekday: "short" }) + " ";
  return `±${day}${time}`;
};
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const productName = (sku) => (state.products[sku] && state.products[sku].name) || sku;
const outletName = (id) => { const o = state.outlets.find((x) => x.outlet_id === id); return o ? o.name : id; };

function status(outletId, sku, cell) {
  if (!cell) return "na";
  if (cell.on_hand < 0) return "negative";
  if (cell.available <= 0) return "out";
  const rp = (state.levels[outletId] || {})[sku];
  if (rp !== undefined && cell.available <= rp) return "low";
  return "ok";
}

function putStock(c) {
  const cells = (state.stock[c.outlet_id] = state.stock[c.outlet_id] || {});
  const old = cells[c.sku];
  if (old && old.version >= c.version) return false;
  cells[c.sku] = c;
  return true;
}

function applySnapshot(s) {
  state.outlets = s.outlets;
  state.products = Object.fromEntries(s.products.map((p) => [p.sku, p]));
  state.calendar = s.calendar;
  state.stock = {};
  for (const [outlet, cells] of Object.entries(s.stock)) for (const c of Object.values(cells)) putStock(c);
  state.levels = s.levels; state.sales = s.sales; state.revenue = s.revenue;
  state.lastSeen = s.last_seen; state.now = s.now;
  setFreshness(s.freshness);
  state.alerts = s.alerts; state.alertIds = new Set(s.alerts.map((a) => a.id));
  state.happenedUntil = 0;
  for (const iso of Object.values(s.last_seen)) happened(iso);
  for (const a of s.alerts) happened(a.at);
  state.orders = Object.fromEntries(s.orders.map((o) => [o.order_id, o]));
  state.restocks = Object.fromEntries(s.restocks.map((r) => [r.restock_id, r]));
  state.foresight = {};
  for (const f of s.forecasts || []) apply.forecast(f);
  state.suggestions = {};
  for (const x of s.suggestions || []) apply.suggestion(x);
  fillFilters();
  dirty = true;
}

const RANK = { open: 0, accepted: 1, declined: 1, overdue: 2, closed: 3 };
const apply = {
  stock(c) {
    if (!putStock(c)) return;
    seen(c.outlet_id, c.at); flash(c.outlet_id, c.sku);
    if (c.available <= 0) stockGone(c.outlet_id, c.sku, c.at);
  },
  sale(s) {
    const hours = (state.sales[s.outlet_id] = state.sales[s.outlet_id] || {});
    hours[s.hour] = (hours[s.hour] || 0) + s.units;
    state.revenue[s.outlet_id] = (state.revenue[s.outlet_id] || 0) + s.amount_idr;
    seen(s.outlet_id, s.at);
  },
  alert(a) {
    if (state.alertIds.has(a.id)) return;
    state.alertIds.add(a.id);
    happened(a.at);
    state.alerts.unshift(a);
    state.alerts.length = Math.min(state.alerts.length, 100);
    if (a.alert === "low_stock" || a.alert === "back_in_stock") {
      (state.levels[a.outlet_id] = state.levels[a.outlet_id] || {})[a.sku] = a.reorder_point;
    }
    if (a.alert === "out_of_stock" || a.alert === "negative_stock") stockGone(a.outlet_id, a.sku);
  },
  forecast(f) {
    const cell = f.outlet_id + "|" + f.sku, held = state.foresight[cell];
    if (f.status === "predicted") state.foresight[cell] = f;
    else if (held && held.prediction_id === f.prediction_id) delete state.foresight[cell];
  },
  suggestion(x) { if (!state.restocks[x.restock_id]) state.suggestions[x.restock_id] = x; },
  order(o) { const old = state.orders[o.order_id]; if (!old || old.version <= o.version) state.orders[o.order_id] = { ...old, ...o }; },
  restock(r) {
    const old = state.restocks[r.restock_id];
    if (old && RANK[old.status] > RANK[r.status]) r = { ...r, status: old.status };
    state.restocks[r.restock_id] = { ...old, ...r };
    delete state.suggestions[r.restock_id]; delete state.editing[r.restock_id]; delete state.notes[r.restock_id];
  },
};

// As the board does: an alert ends the cell's prediction (it came after it, in the same
// partition); a stock change, from another topic, only one made before it.
function stockGone(outletId, sku, iso) {
  const cell = outletId + "|" + sku, held = state.foresight[cell];
  if (held && (!iso || Date.parse(held.at) <= Date.parse(iso))) delete state.foresight[cell];
}

function seen(outletId, iso) {
  happened(iso);
  if (iso && (state.lastSeen[outletId] || "") < iso) state.lastSeen[outletId] = iso;
}
function happened(iso) { const at = iso ? Date.parse(iso) : NaN; if (at > state.happenedUntil) state.happenedUntil = at; }
const boardNow = () => Math.max(Date.now(), state.happenedUntil);
const flashes = new Set();
function flash(outletId, sku) { flashes.add(outletId + "|" + sku); }

function fillFilters() {
  const channel = $("channel"), event = $("event");
  const chosen = [channel.value, event.value];
  const channels = [...new Set(state.outlets.map((o) => o.channel))];
  channel.innerHTML = `<option value="">${t("all")}</option>` +
    channels.map((c) => `<option value="${esc(c)}">${esc(t(c))}</option>`).join("");
  event.innerHTML = `<option value="">${t("all")}</option>` +
    state.calendar.map((c) => `<option value="${esc(c.calendar_id)}">${esc(c.name)}</option>`).join("");
  [channel.value, event.value] = chosen;
}

function shownOutlets() {
  const channel = $("channel").value, event = $("event").value;
  return state.outlets.filter((o) => (!channel || o.channel === channel) && (!event || o.calendar_id === event));
}

function spark(hours) {
  const today = (state.now || new Date().toISOString()).slice(0, 10);
  const values = [];
  for (let h = 6; h < 23; h++) values.push((hours || {})[`${today}T${String(h).padStart(2, "0")}`] || 0);
  const max = Math.max(1, ...values);
  const bars = values.map((v, i) => `<rect x="${i * 5}" y="${20 - (v / max) * 20}" width="4" height="${(v / max) * 20}" fill="#2f6b4f"/>`).join("");
  const total = values.reduce((a, b) => a + b, 0);
  return `<svg class="spark" width="85" height="20" role="img" aria-label="${total}">${bars}</svg>`;
}

function renderGrid() {
  const outlets = shownOutlets();
  const skus = [...new Set(outlets.flatMap((o) => [...o.skus, ...Object.keys(state.stock[o.outlet_id] || {})]))]
    .sort((a, b) => productName(a).localeCompare(productName(b)));
  const now = boardNow();
  const head = `<thead><tr><th>${t("outlet")}</th><th>${t("sales")}</th>` +
    skus.map((s) => `<th title="${esc(productName(s))}">${esc(productName(s))}</th>`).join("") + "</tr></thead>";
  const rows = outlets.map((o) => {
    const last = state.lastSeen[o.outlet_id];
    const silent = !last || now - new Date(last).getTime() > SILENT_MS;
    const seenText = last ? `${t("last")} ${wita(last)}` : t("never");
    const cells = skus.map((sku) => {
      const c = (state.stock[o.outlet_id] || {})[sku];
      const st = status(o.outlet_id, sku, c), f = state.foresight[o.outlet_id + "|" + sku];
      const foreseen = f && (st === "ok" || st === "low");
      const cls = st + (foreseen ? " foreseen" : "") + (flashes.has(o.outlet_id + "|" + sku) ? " flash" : "");
      let text = c ? `${c.available} / ${c.on_hand}` : "–";
      let more = "";
      if (foreseen) {
        text += `<span class="eta">${t("out")} ${eta(f.expected_at)}</span>`;
        more = ` data-foreseen="${esc(f.prediction_id)}" title="${esc(f.units_per_hour)}${t("per_hour")} · ${t("lead")} ${esc(f.lead_time_hours)} ${t("hours")}"`;
      }
      return `<td class="cell ${cls}" data-cell="${esc(o.outlet_id)}|${esc(sku)}" data-available="${c ? c.available : ""}"${more}>${text}</td>`;
    }).join("");
    return `<tr data-outlet="${esc(o.outlet_id)}"><th class="${silent ? "silent" : ""}">${esc(o.name)}` +
      `<span class="sub">${esc(t(o.channel))} · ${rupiah(state.revenue[o.outlet_id] || 0)} ${t("today")}</span>` +
      `<span class="sub seen">${seenText}${silent && last ? " · " + t("silent") : ""}</span></th>` +
      `<td>${spark(state.sales[o.outlet_id])}</td>${cells}</tr>`;
  }).join("");
  $("grid").innerHTML = head + `<tbody>${rows}</tbody>`;
  flashes.clear();
}

// What an alert is about, enough to act on: a refused return names its sale and why (the
// worker's own words on hover); a price off the outlet's, both prices and the sale.
function alertText(a) {
  const where = esc(outletName(a.outlet_id));
  if (a.alert === "return_refused") {
    return `${esc(t(a.kind))} ${esc(a.return_id)} · ${t("sale")} ${esc(a.sale_id)} @ ${where}: ${esc(t(a.reason))}`;
  }
  if (a.alert === "price_flagged") {
    const off = Number(a.difference_percent).toLocaleString(lang === "id" ? "id-ID" : "en-GB",
      { maximumFractionDigits: 1, signDisplay: "always" });
    return `${esc(productName(a.sku))} @ ${where}: ${a.qty} × ${rupiah(a.unit_price_idr)}, ` +
      `${t("outlet_price")} ${rupiah(a.outlet_price_idr)} (${off} %) · ${t("sale")} ${esc(a.sale_id)}`;
  }
  if (a.alert === "expiry_soon" || a.alert === "expiry_expired") {
    return `${esc(productName(a.sku))} @ ${where}: ${a.qty} · ${t("batch")} ${esc(a.batch_code || "–")} · ${esc(a.best_before)}`;
  }
  if (a.alert === "close_out_due") return `${where}: ${a.units} ${t("units")}`;
  if (a.alert === "booth_closed_out") {
    return `${where}: ${t("sold_units")} ${a.units} · ${rupiah(a.revenue_idr)} · ${t("left_over")} ` +
      `${a.left_over}${a.transfer_id ? " · " + t("goes_home") + " " + esc(a.transfer_id) : ""}`;
  }
  return `${esc(productName(a.sku))} @ ${where} (${a.on_hand})`;
}

function renderLists() {
  const shown = new Set(shownOutlets().map((o) => o.outlet_id));
  $("alerts").innerHTML = state.alerts.filter((a) => shown.has(a.outlet_id)).slice(0, 60).map((a) =>
    `<li data-alert="${esc(a.alert)}"${a.message ? ` title="${esc(a.message)}"` : ""}><span class="when">${wita(a.at)}</span>` +
    `<span class="tag ${esc(a.alert)}">${esc(t(a.alert))}</span> ${alertText(a)}</li>`).join("");
  const restocks = Object.values(state.restocks).filter((r) => r.status !== "closed" && shown.has(r.outlet_id))
    .sort((a, b) => (b.requested_at || "").localeCompare(a.requested_at || ""));
  $("restocks").innerHTML = restocks.slice(0, 60).map((r) =>
    `<li data-restock="${esc(r.restock_id)}"><span class="tag ${esc(r.status)}">${esc(t(r.status))}</span> ` +
    `${esc(productName(r.sku))} → ${esc(outletName(r.outlet_id))}: ${r.accepted_qty || r.qty || ""}` +
    `${r.expected_at ? " · " + wita(r.expected_at) : ""}${r.reason ? " · " + esc(r.reason) : ""}</li>`).join("");
  const waiting = Object.values(state.orders).filter((o) => (o.state === "reserved" || o.state === "placed") && shown.has(o.outlet_id))
    .sort((a, b) => (a.pickup_at || "").localeCompare(b.pickup_at || ""));
  $("orders").innerHTML = waiting.slice(0, 60).map((o) =>
    `<li data-order="${esc(o.order_id)}"><span class="tag ${esc(o.state)}">${esc(t(o.state))}</span> ` +
    `${esc(o.customer_name || o.order_id)} · ${o.units || ""} · ${esc(outletName(o.outlet_id))} · ${t("pickup")} ${wita(o.pickup_at)}</li>`).join("");
}

// Suggested restocks: held by inventory for ops until send_at. "Kirim" sends the shown
// quantity now; "Ubah" sends a changed one now (docs/decisions.md, Dashboard: a change
// left waiting would be seen by no one else). The call goes to this dashboard, which
// passes it to inventory's API with this page's ops key. The panel is re-rendered only
// when what it shows changes, so a number being typed survives the updates around it;
// its countdowns are filled in place, each tick.
function suggestionsHtml() {
  const shown = new Set(shownOutlets().map((o) => o.outlet_id));
  const held = Object.values(state.suggestions).filter((x) => shown.has(x.outlet_id))
    .sort((a, b) => a.send_at.localeCompare(b.send_at));
  return held.slice(0, 60).map((x) => {
    const id = esc(x.restock_id), editing = state.editing[x.restock_id], note = state.notes[x.restock_id];
    const buttons = editing === undefined
      ? `<button type="button" data-act="send">${t("send")}</button> <button type="button" data-act="edit">${t("edit")}</button>`
      : `<input type="number" min="1" step="1" value="${esc(editing)}" data-qty="${id}"> ` +
        `<button type="button" data-act="save">${t("save_send")}</button> <button type="button" data-act="cancel">${t("cancel")}</button>`;
    return `<li data-suggestion="${id}"><b>${esc(productName(x.sku))}</b> → ${esc(outletName(x.outlet_id))}: ` +
      `<span class="qty">${x.qty}</span> <span class="sub">(${t("left")} ${x.available})</span>` +
      (x.reason ? `<span class="why">${esc(x.reason)}</span>` : "") +
      `<span class="when" data-send-at="${esc(x.send_at)}"></span>` +
      `<span class="acts">${buttons}${note ? ` <span class="note">${esc(note)}</span>` : ""}</span></li>`;
  }).join("");
}

function goesOut(iso) {
  const left = Math.ceil((Date.parse(iso) - boardNow()) / 60000);
  return left <= 0 ? t("going_out") : `${t("goes_out")} ${wita(iso)} · ${left} ${t("minutes_left")}`;
}

let suggestionsShown = null;
function renderSuggestions() {
  const html = suggestionsHtml();
  if (html === suggestionsShown) return;
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.qty : undefined;
  suggestionsShown = html;
  $("suggestions").innerHTML = html;
  if (focused !== undefined) {
    const input = $("suggestions").querySelector(`input[data-qty="${CSS.escape(focused)}"]`);
    if (input) input.focus();
  }
}

function countdowns() {
  document.querySelectorAll("#suggestions [data-send-at]").forEach((el) => {
    const text = goesOut(el.dataset.sendAt);
    if (el.textContent !== text) el.textContent = text;
  });
}

async function sendRestock(restockId, qty) {
  const x = state.suggestions[restockId];
  if (!x) return;
  state.notes[restockId] = t("sending");
  dirty = true;
  let note;
  try {
    const answer = await fetch(`/v1/outlets/${encodeURIComponent(x.outlet_id)}/restocks/${encodeURIComponent(restockId)}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json", "X-API-Key": key },
      body: JSON.stringify({ qty, send_now: true }),
    });
    if (answer.status === 202) note = t("sending");  // it leaves once its request comes
    else if (answer.status === 409) note = t("already_sent");
    else if (answer.status === 404) note = t("not_found");
    else {
      const body = await answer.json().catch(() => ({}));
      note = `${t("failed")} (${answer.status}): ${typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail || "")}`;
    }
  } catch (err) {
    note = `${t("failed")}: ${err}`;
  }
  if (state.suggestions[restockId]) { state.notes[restockId] = note; delete state.editing[restockId]; }
  dirty = true;
}

$("suggestions").addEventListener("input", (e) => {
  if (e.target.dataset.qty !== undefined) state.editing[e.target.dataset.qty] = e.target.value;
});
$("suggestions").addEventListener("click", (e) => {
  const act = e.target.dataset && e.target.dataset.act, li = e.target.closest("li[data-suggestion]");
  if (!act || !li) return;
  const id = li.dataset.suggestion, x = state.suggestions[id];
  if (!x) return;
  if (act === "send") sendRestock(id, x.qty);
  else if (act === "edit") { state.editing[id] = String(x.qty); delete state.notes[id]; }
  else if (act === "cancel") delete state.editing[id];
  else if (act === "save") {
    const qty = Number(state.editing[id]);
    if (Number.isInteger(qty) && qty >= 1) sendRestock(id, qty);
    else state.notes[id] = `${t("failed")}: qty ≥ 1`;
  }
  dirty = true;
});

// Transfer suggestions: planned by inventory's API when asked (GET /v1/transfers/
// suggestions, passed on by the dashboard), so the page asks again every
// TRANSFERS_EVERY_MS; accepting one makes the transfer (once, however often it is sent).
const TRANSFERS_EVERY_MS = 15000;

function transfersHtml() {
  return state.transfers.slice(0, 30).map((x) => {
    const id = esc(x.suggestion_id), editing = state.transferEditing[x.suggestion_id];
    const note = state.transferNotes[x.suggestion_id];
    const buttons = editing === undefined
      ? `<button type="button" data-act="accept">${t("accept")}</button> <button type="button" data-act="edit">${t("edit")}</button>`
      : `<input type="number" min="1" step="1" value="${esc(editing)}" data-qty="${id}"> ` +
        `<button type="button" data-act="save">${t("save_accept")}</button> <button type="button" data-act="cancel">${t("cancel")}</button>`;
    return `<li data-transfer="${id}"><b>${esc(productName(x.sku))}</b> ${esc(outletName(x.from_outlet_id))} → ` +
      `${esc(outletName(x.to_outlet_id))}: <span class="qty">${x.qty}</span>` +
      `<span class="why">${t("foreseen")} ${eta(x.runs_out_at)} · ${t("arrives")} ${eta(x.arrives_at)} · ` +
      `${t("supplier_at")} ${eta(x.supplier_at)}</span>` +
      `<span class="acts">${buttons}${note ? ` <span class="note">${esc(note)}</span>` : ""}</span></li>`;
  }).join("");
}

let transfersShown = null;
function renderTransfers() {
  const html = transfersHtml();
  if (html === transfersShown) return;
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.qty : undefined;
  transfersShown = html;
  $("transfers").innerHTML = html;
  if (focused !== undefined) {
    const input = $("transfers").querySelector(`input[data-qty="${CSS.escape(focused)}"]`);
    if (input) input.focus();
  }
}

async function loadTransfers() {
  try {
    const answer = await fetch("/v1/transfers/suggestions", { headers: { "X-API-Key": key } });
    if (answer.ok) state.transfers = (await answer.json()).suggestions || [];
  } catch (err) {
    // offline: the list stays as it was until the next try
  }
  dirty = true;
}

async function acceptTransfer(id, qty) {
  state.transferNotes[id] = t("sending");
  dirty = true;
  let note;
  try {
    const answer = await fetch(`/v1/transfers/suggestions/${encodeURIComponent(id)}/accept`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": key },
      body: JSON.stringify(qty === undefined ? {} : { qty }),
    });
    if (answer.status === 202) note = t("moving");
    else if (answer.status === 404) note = t("not_found");
    else {
      const body = await answer.json().catch(() => ({}));
      note = `${t("failed")} (${answer.status}): ${typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail || "")}`;
    }
  } catch (err) {
    note = `${t("failed")}: ${err}`;
  }
  state.transferNotes[id] = note;
  delete state.transferEditing[id];
  dirty = true;
}

$("transfers").addEventListener("input", (e) => {
  if (e.target.dataset.qty !== undefined) state.transferEditing[e.target.dataset.qty] = e.target.value;
});
$("transfers").addEventListener("click", (e) => {
  const act = e.target.dataset && e.target.dataset.act, li = e.target.closest("li[data-transfer]");
  if (!act || !li) return;
  const id = li.dataset.transfer, x = state.transfers.find((s) => s.suggestion_id === id);
  if (!x) return;
  if (act === "accept") acceptTransfer(id, undefined);
  else if (act === "edit") { state.transferEditing[id] = String(x.qty); delete state.transferNotes[id]; }
  else if (act === "cancel") delete state.transferEditing[id];
  else if (act === "save") {
    const qty = Number(state.transferEditing[id]);
    if (Number.isInteger(qty) && qty >= 1) acceptTransfer(id, qty);
    else state.transferNotes[id] = `${t("failed")}: qty ≥ 1`;
  }
  dirty = true;
});

function setFreshness(f) { state.freshness = f; state.freshAt = Date.now(); }

function showFreshness() {
  const f = state.freshness;
  if (!f || !f.as_of) { $("fresh").textContent = ""; return; }
  // Lag as the server last said (every 2 s), growing once it has said nothing for longer.
  const sinceTold = Math.max(0, (Date.now() - state.freshAt) / 1000 - 3);
  const lag = (f.lag_s || 0) + sinceTold;
  const asOf = new Date(f.as_of).toLocaleTimeString(lang === "id" ? "id-ID" : "en-GB",
    { timeZone: "Asia/Makassar", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  $("fresh").textContent = `${t("data_as_of")} ${asOf} WITA, ${t("lag")} ${lag.toFixed(1)} s` +
    (f.behind > 0 ? ` (${f.behind} ${t("behind")})` : "");
  $("fresh").dataset.stale = lag > STALE_S ? "yes" : "no";
}

let connection = "connecting";
function showConnection(word) {
  connection = word;
  $("status").textContent = t(word);
  $("status").className = word === "live" ? "status-on" : "status-off";
}

function translate() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  $("lang").textContent = lang === "id" ? "EN" : "ID";
  showConnection(connection);
  fillFilters();
  dirty = true;
}

function tick() {
  const wall = Date.now(), now = boardNow();
  const simulated = now - wall > SIMULATED_AFTER_MS;
  $("clock").textContent = wita(new Date(now).toISOString()) +
    (simulated ? ` · ${t("simulated")} (${t("wall")} ${wita(new Date(wall).toISOString())})` : "");
  $("clock").dataset.simulated = simulated ? "yes" : "no";
  showFreshness();
  if (dirty) { dirty = false; renderGrid(); renderLists(); renderSuggestions(); renderTransfers(); }
  countdowns();
}

function connect() {
  const source = new EventSource(`/v1/stream?key=${encodeURIComponent(key)}`);
  source.addEventListener("open", () => showConnection("live"));
  source.addEventListener("error", () => showConnection("offline"));
  source.addEventListener("snapshot", (e) => { applySnapshot(JSON.parse(e.data)); });
  source.addEventListener("freshness", (e) => { setFreshness(JSON.parse(e.data)); });
  for (const kind of Object.keys(apply)) {
    source.addEventListener(kind, (e) => { apply[kind](JSON.parse(e.data)); dirty = true; });
  }
  window.lumbungSource = source;
}

$("lang").addEventListener("click", () => { lang = lang === "id" ? "en" : "id"; localStorage.setItem("lumbung.lang", lang); translate(); });
$("channel").addEventListener("change", () => { dirty = true; });
$("event").addEventListener("change", () => { dirty = true; });
translate();
setInterval(tick, 250);
connect();
loadTransfers();
setInterval(loadTransfers, TRANSFERS_EVERY_MS);
