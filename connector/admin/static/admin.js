// @ts-nocheck -- runs in the browser, served as is (no build step); the project's type check has no DOM library.
/**
 * The operator page's script: sign-in, the JSON API (connector/admin/router.ts), and the tables
 * and plots. Everything is written with textContent and created elements, never innerHTML, since
 * what is shown (names, ids, error texts from communities) comes from outside.
 */
const TOKEN_KEY = 'koblingspunkt.admin.token';
const REFRESH_MS = 30_000;
const $ = (id) => document.getElementById(id);
let refreshTimer;

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

class Unauthorized extends Error {}

async function api(path, params) {
  const query = params ? `?${new URLSearchParams(params)}` : '';
  const res = await fetch(`api/${path}${query}`, { headers: { Authorization: `Bearer ${token()}` }, cache: 'no-store' });
  if (res.status === 401) throw new Unauthorized('the token was not accepted');
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

/** An element with text and attributes; children may be strings or elements. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  }
  for (const child of children) node.append(child ?? '');
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function fillTable(table, rows, emptyText) {
  const body = table.tBodies[0];
  body.replaceChildren();
  if (rows.length === 0) {
    const cols = table.tHead.rows[0].cells.length;
    body.append(el('tr', {}, el('td', { colspan: cols, class: 'hint' }, emptyText)));
    return;
  }
  for (const cells of rows) body.append(el('tr', {}, ...cells.map((c) => (c instanceof Node && c.nodeName === 'TD' ? c : el('td', {}, c)))));
}

const time = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
const count = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const clock = (iso) => new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

// ---- sign-in ----

function showLogin(message) {
  clearInterval(refreshTimer);
  sessionStorage.removeItem(TOKEN_KEY);
  $('app').hidden = true;
  $('logout').hidden = true;
  $('identity').textContent = '';
  $('login').hidden = false;
  $('login-error').textContent = message ?? '';
  $('token').value = '';
  $('token').focus();
}

async function signIn(candidate) {
  sessionStorage.setItem(TOKEN_KEY, candidate);
  try {
    await loadOverview();
  } catch (e) {
    showLogin(e instanceof Unauthorized ? 'Wrong token: the node refused it.' : `The node could not be reached: ${e.message}`);
    return;
  }
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  await Promise.all([loadCommunities(false), loadRates(), searchAudit()]).catch(handle);
  refreshTimer = setInterval(refresh, REFRESH_MS);
  // The form the keyboard was in is gone: continue at the first section.
  $('communities-title').focus();
}

/** Every 30 s while the page is visible: the communities and the rates. */
function refresh() {
  if (document.hidden) return;
  Promise.all([loadCommunities(false), loadRates()]).catch(handle);
}

function handle(e) {
  if (e instanceof Unauthorized) showLogin('The token is no longer accepted: sign in again.');
  else console.error(e);
}

// ---- overview ----

async function loadOverview() {
  const o = await api('overview');
  const n = o.node;
  $('identity').textContent =
    `${n.homeCommunityId} · gateway ${n.gatewayMode} · store ${n.store} · TLS ${n.tls ? 'on' : 'off'} · trust model ${n.trust ? 'on' : 'off'}`;
  fillTable($('roles'), o.roles.map((r) => [el('code', {}, r.path), r.role]), 'No endpoints.');
  $('config').textContent = JSON.stringify(o.config, null, 2);
  if (!o.features.metrics) $('rates-status').textContent = 'Request metrics are not available on this node.';
}

// ---- communities ----

async function loadCommunities(force) {
  const button = $('probe');
  button.disabled = true;
  $('communities-status').textContent = 'Probing…';
  try {
    const { communities } = await api('communities', force ? { refresh: '1' } : undefined);
    const down = communities.filter((c) => !c.up).length;
    fillTable(
      $('communities'),
      communities.map((c) => [
        el('td', {}, el('strong', {}, c.name ?? c.homeCommunityId), el('br'), el('span', { class: 'mono hint' }, c.queryUrl)),
        el('td', {}, el('span', { class: `badge ${c.up ? 'up' : 'down'}` }, c.up ? 'up' : 'down')),
        el('td', {}, c.up ? `HTTP ${c.status}, ${c.latencyMs} ms` : `${c.error ?? 'unreachable'} (${c.latencyMs} ms)`),
        el('td', {}, callSummary(c.calls)),
      ]),
      'No communities are configured (gateway.communities).',
    );
    const at = communities[0]?.probedAt;
    $('communities-status').textContent =
      communities.length === 0 ? '' : `${communities.length - down} up, ${down} down${at ? `, probed ${clock(at)}` : ''}; refreshed every 30 s.`;
  } catch (e) {
    $('communities-status').textContent = `Probe failed: ${e.message}`;
    throw e;
  } finally {
    button.disabled = false;
  }
}

function callSummary(calls) {
  if (!calls) return '—';
  const parts = [];
  if (calls.lastAt) parts.push(`last ${calls.lastOk ? 'ok' : 'failed'} ${clock(calls.lastAt)}${calls.lastLatencyMs !== undefined ? `, ${calls.lastLatencyMs} ms` : ''}`);
  parts.push(`${count(calls.timeouts, 'timeout')}, ${count(calls.failures, 'failure')}`);
  return parts.join('; ');
}

// ---- rates ----

async function loadRates() {
  const { available, buckets } = await api('rates');
  if (!available) {
    drawBars($('plot-requests'), [], 'requests');
    drawBars($('plot-errors'), [], 'errors');
    return;
  }
  // Sixty minutes ending with the current one; minutes without a bucket had no requests.
  const now = new Date();
  now.setSeconds(0, 0);
  const byMinute = new Map(buckets.map((b) => [new Date(b.start).getTime(), b]));
  const minutes = [];
  for (let i = 59; i >= 0; i--) {
    const t = now.getTime() - i * 60_000;
    const b = byMinute.get(t);
    minutes.push({ t, requests: b?.requests ?? 0, errors: b?.errors ?? 0 });
  }
  const total = minutes.reduce((s, m) => s + m.requests, 0);
  const errors = minutes.reduce((s, m) => s + m.errors, 0);
  $('rates-status').textContent = `${count(total, 'request')}, ${count(errors, 'error')} (${total ? ((100 * errors) / total).toFixed(1) : '0.0'} %) in the last hour.`;
  drawBars($('plot-requests'), minutes.map((m) => ({ t: m.t, v: m.requests, label: `${m.requests} requests` })), 'requests');
  drawBars(
    $('plot-errors'),
    minutes.map((m) => ({ t: m.t, v: m.requests ? (100 * m.errors) / m.requests : 0, label: `${m.errors} of ${m.requests} failed` })),
    'errors',
    100,
  );
}

/** A bar per minute, with a y axis from 0 to the peak (or `fixedMax`) and time labels below. */
function drawBars(target, points, kind, fixedMax) {
  const W = 600, H = 130, left = 34, bottom = 18, top = 6;
  target.replaceChildren();
  if (points.length === 0) {
    target.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no data'));
    target.setAttribute('aria-label', `${kind}: no data`);
    return;
  }
  const peak = Math.max(...points.map((p) => p.v));
  const max = fixedMax ?? Math.max(1, niceCeil(peak));
  const plotW = W - left - 4, plotH = H - top - bottom;
  const step = plotW / points.length;
  target.append(svg('line', { class: 'axis', x1: left, y1: top + plotH, x2: W - 4, y2: top + plotH }));
  target.append(svg('line', { class: 'axis', x1: left, y1: top, x2: left, y2: top + plotH }));
  target.append(svg('text', { x: left - 4, y: top + 8, 'text-anchor': 'end' }, kind === 'errors' ? `${max}%` : String(max)));
  target.append(svg('text', { x: left - 4, y: top + plotH, 'text-anchor': 'end' }, '0'));
  points.forEach((p, i) => {
    const h = (Math.min(p.v, max) / max) * plotH;
    const bar = svg('rect', { class: kind === 'errors' ? 'bar error' : 'bar', x: left + i * step + 0.5, y: top + plotH - h, width: Math.max(1, step - 1), height: h });
    bar.append(svg('title', {}, `${clock(new Date(p.t).toISOString())}: ${p.label}`));
    target.append(bar);
    if ((i % 15 === 0 && i < points.length - 8) || i === points.length - 1) {
      // The last label ends at the plot's right edge instead of running past it.
      const last = i === points.length - 1;
      target.append(svg('text', { x: last ? W - 4 : left + i * step + step / 2, y: H - 4, 'text-anchor': last ? 'end' : 'middle' }, clock(new Date(p.t).toISOString())));
    }
  });
  const peakAt = points.find((p) => p.v === peak);
  target.setAttribute('aria-label', `${kind} per minute over the last hour; peak ${kind === 'errors' ? `${peak.toFixed(1)} %` : peak} at ${clock(new Date(peakAt.t).toISOString())}`);
}

function niceCeil(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((n) => n >= v);
}

// ---- audit trail ----

/** A datetime-local value is local time without a zone: sent as the instant it denotes. */
function instant(value) {
  return value ? new Date(value).toISOString() : '';
}

function formParams(form, convert = {}) {
  const params = {};
  for (const [k, v] of new FormData(form)) {
    const value = convert[k] ? convert[k](String(v)) : String(v).trim();
    if (value !== '') params[k] = value;
  }
  return params;
}

function outcomeCell(outcome) {
  return el('td', { class: `outcome-${outcome}` }, outcome);
}

function practitionerText(p) {
  return [p.name, p.role].filter(Boolean).join(', ') || '—';
}

function organisationText(o) {
  return o ? [o.name, o.id].filter(Boolean).join(' · ') : '—';
}

async function searchAudit() {
  const params = formParams($('audit-form'), { from: instant, to: instant });
  $('audit-status').textContent = 'Searching…';
  try {
    const { events, truncated } = await api('audit', params);
    fillTable(
      $('audit'),
      events.map((e) => [
        el('td', { class: 'num' }, time(e.recorded)),
        el('td', {}, e.entry.transaction ?? '—', el('br'), el('span', { class: 'hint' }, e.entry.action)),
        outcomeCell(e.entry.outcome),
        practitionerText(e.entry.practitioner),
        organisationText(e.entry.organisation),
        el('td', { class: 'mono' }, e.patientId ?? '—'),
        el('td', { class: 'num' }, String(e.entry.documents.length)),
      ]),
      'No audit event matches.',
    );
    $('audit-status').textContent = `${events.length} event${events.length === 1 ? '' : 's'}${truncated ? ' (the newest; narrow the search for older ones)' : ''}, newest first.`;
  } catch (e) {
    $('audit-status').textContent = `Search failed: ${e.message}`;
    if (e instanceof Unauthorized) throw e;
  }
}

// ---- patient access log ----

async function showAccessLog() {
  const params = formParams($('access-form'));
  $('access-status').textContent = 'Loading…';
  try {
    const log = await api('access-log', params);
    fillTable(
      $('access'),
      log.accesses.map((a) => [
        el('td', { class: 'num' }, time(a.time)),
        a.action,
        outcomeCell(a.outcome),
        practitionerText(a.practitioner),
        organisationText(a.organisation),
        a.purpose ?? '—',
        el('td', { class: 'num' }, String(a.documents.length)),
      ]),
      'No access to this patient’s records in the period.',
    );
    $('access-status').textContent = `${log.accesses.length} access${log.accesses.length === 1 ? '' : 'es'} to ${log.patientId} from ${time(log.from)} to ${time(log.to)}${log.truncated ? ' (the newest only)' : ''}.`;
  } catch (e) {
    $('access-status').textContent = `Access log failed: ${e.message}`;
    if (e instanceof Unauthorized) throw e;
  }
}

// ---- wiring ----

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = $('token').value.trim();
  if (value) signIn(value);
});
$('logout').addEventListener('click', () => showLogin('Signed out.'));
$('probe').addEventListener('click', () => loadCommunities(true).catch(handle));
$('audit-form').addEventListener('submit', (event) => {
  event.preventDefault();
  searchAudit().catch(handle);
});
$('access-form').addEventListener('submit', (event) => {
  event.preventDefault();
  showAccessLog().catch(handle);
});
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && token()) refresh();
});

if (token()) signIn(token());
else showLogin();
