'use strict';
// The ShardSchema dashboard: a page per route (#/, #/version/V, #/shard/ID), rebuilt from the JSON API every few
// seconds. Every text from the catalog goes in through textContent, never as HTML.

const REFRESH_MS = 3000;
const PAGE_SIZE = 1000;
const STATES = ['done', 'running', 'waiting', 'pending', 'failed', 'blocked'];
const FILTERS = [['all', null], ['failed', 'failed'], ['running', 'running'], ['waiting', 'waiting']];

const tokenInput = document.getElementById('token');
tokenInput.value = localStorage.getItem('shardschema.token') || '';
tokenInput.addEventListener('change', () => localStorage.setItem('shardschema.token', tokenInput.value.trim()));

async function call(method, path, body) {
  const headers = {};
  const token = tokenInput.value.trim();
  if (token) headers['Authorization'] = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch('/api/v1' + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const data = await res.json().catch(() => ({error: 'the server answered ' + res.status + ' without JSON'}));
  if (!res.ok) throw new Error(data.error || ('HTTP ' + res.status));
  return data;
}

/** An element with attributes (on* are listeners) and children (strings become text nodes). */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function say(text, isError) {
  const m = document.getElementById('message');
  m.hidden = false;
  m.className = isError ? 'error' : '';
  m.textContent = text;
}

/** Runs an action, says what came of it, and refreshes the page at once. */
async function act(what, method, path, body) {
  if (!tokenInput.value.trim()) {
    say(what + ': enter the API token (the server\'s apiToken) first', true);
    return;
  }
  try {
    const r = await call(method, path, body);
    say(what + ': ' + summary(r));
  } catch (e) {
    say(what + ' failed: ' + e.message, true);
  }
  render();
}

function summary(r) {
  if (r.action) return r.action + ' on ' + r.tasks + ' started task(s); ' + r.resumed + ' waiting shard(s) handed back';
  if (r.retried) return r.retried.length ? 'retrying ' + r.named.map(n => shardName(n.id, n.schema, n.server)).join(', ')
      : 'no failed shard to retry';
  if (r.state) return r.state;
  return 'done';
}

function button(label, onclick, attrs) {
  return el('button', Object.assign({type: 'button', onclick}, attrs || {}), label);
}

function bar(v, total) {
  const b = el('div', {class: 'bar', title: STATES.map(s => s + ' ' + v[s]).join(', ')});
  for (const s of STATES) {
    if (s === 'pending' || v[s] === 0) continue;
    const segment = el('span', {class: s});
    segment.style.width = (100 * v[s] / total) + '%'; // through CSSOM: the page's CSP allows no inline style attribute
    b.append(segment);
  }
  return b;
}

function shardLink(id, label) {
  return el('a', {href: '#/shard/' + id}, label || ('shard ' + id));
}

/** How the page names a shard, as the command line does: "shard 17 (app_017@10.0.3.87:3306)". */
function shardName(id, schema, server) {
  return 'shard ' + id + ' (' + schema + '@' + server + ')';
}

function showThrottle(status) {
  const t = document.getElementById('throttle');
  const throttle = status.throttleState;
  t.textContent = 'throttle: ' + throttle.description + (status.stopFilePresent ? '; stop file present' : '');
  t.className = 'badge' + (throttle.paused ? ' paused' : throttle.workerLimit !== null ? ' limited' : '');
}

async function fleetView() {
  const status = await call('GET', '/status');
  showThrottle(status);
  const rows = status.versions.map(v => el('tr', {'data-version': v.version},
      el('td', {}, el('a', {href: '#/version/' + v.version}, 'version ' + v.version)),
      el('td', {}, v.table), el('td', {}, v.type),
      el('td', {}, bar(v, status.shards)),
      STATES.map(s => el('td', {class: 'num ' + 'count-' + s}, v[s])),
      el('td', {}, v.online.map(p => p.tasks + ' ' + p.phase + (p.meanProgress !== null ? ' (' + Math.round(p.meanProgress) + '%)' : '')).join(', '))));
  const lists = [];
  // Drifted and refused shards have a version; stalled tasks the version they started from.
  const trouble = (title, shards) => {
    if (shards.length) lists.push(el('section', {}, el('h3', {}, title), el('p', {}, shards.map((s, i) => [i ? ', ' : '',
      shardLink(s.shardId, shardName(s.shardId, s.schema, s.server)),
      ' at version ' + (s.version ?? s.fromVersion)]))));
  };
  trouble('Drifted (the table differs from the expected result)', status.drifted);
  trouble('Refused by the guard', status.refused);
  trouble('Stalled tasks', status.stalled);
  return [
    el('h2', {}, status.shards + ' shards'),
    el('table', {id: 'versions'},
        el('tr', {}, el('th', {}, 'version'), el('th', {}, 'table'), el('th', {}, 'type'), el('th', {}, 'progress'),
            STATES.map(s => el('th', {}, s)), el('th', {}, 'online')),
        rows),
    el('p', {id: 'runners'}, 'Runners: ', status.runners.length
        ? status.runners.map(r => r.runner + ' (' + r.tasks + ' of ' + r.workers + ' workers busy)').join(', ') : 'none',
        status.pinned ? ' · ' + status.pinned + ' shard(s) pinned by down' : ''),
    el('p', {}, button('Retry every failed shard', () => act('retry all', 'POST', '/retry', {all: true}))),
    lists,
  ];
}

/** The state of a shard for version v, whose predecessor is prev (as `status` counts it). */
function cellState(shard, v, prev) {
  if (shard.version >= v) return 'done';
  if (shard.version === prev) {
    if (shard.state === 'running' || shard.state === 'waiting') return shard.state;
    if (shard.state === 'failed') return ['drifted', 'refused'].includes(shard.lastRunState) ? shard.lastRunState : 'failed';
    return 'pending';
  }
  return shard.state === 'failed' ? 'blocked' : 'pending';
}

async function versionView(number, params) {
  const filter = FILTERS.find(f => f[0] === params.get('filter')) || FILTERS[0];
  const page = Math.max(0, parseInt(params.get('page') || '0', 10) || 0);
  const [status, list] = await Promise.all([call('GET', '/status'),
    call('GET', '/shards?offset=' + page * PAGE_SIZE + '&limit=' + PAGE_SIZE + (filter[1] ? '&state=' + filter[1] : ''))]);
  showThrottle(status);
  const i = status.versions.findIndex(v => v.version === number);
  if (i < 0) return [el('p', {}, 'No version ' + number + '. '), el('a', {href: '#/'}, 'Back to the fleet')];
  const v = status.versions[i];
  const prev = i > 0 ? status.versions[i - 1].version : 0;
  const link = (f, p) => '#/version/' + number + '?filter=' + f + '&page=' + p;
  const cells = list.shards.map(s => {
    const state = cellState(s, number, prev);
    return el('a', {class: state, href: '#/shard/' + s.id, 'data-shard': s.id, 'data-state': state,
      title: shardName(s.id, s.schemaName, s.serverKey) + ': ' + state + ' (at version ' + s.version + ')'});
  });
  const problems = list.shards.filter(s => ['failed', 'drifted', 'refused'].includes(cellState(s, number, prev)));
  const online = v.type !== 'sql';
  return [
    el('h2', {}, 'Version ' + number + ': ' + v.table + ' (' + v.type + ')'),
    el('p', {}, bar(v, status.shards), ' ', STATES.map(s => s + ' ' + v[s]).join(' · ')),
    online ? el('p', {id: 'phases'}, 'Online tasks: ', v.online.length ? v.online.map(p => p.tasks + ' ' + p.phase
        + (p.meanProgress !== null ? ' (mean ' + Math.round(p.meanProgress) + '%' + (p.longestEtaSeconds !== null
            ? ', longest ' + p.longestEtaSeconds + ' s left' : '') + ')' : '')).join(', ') : 'none yet') : null,
    online ? el('p', {class: 'toolbar'},
        button('Approve all', () => act('approve version ' + number, 'POST', '/versions/' + number + '/approve', {}), {id: 'approve-all'}),
        button('Cut over all', () => act('cut-over version ' + number, 'POST', '/versions/' + number + '/cutover', {}), {id: 'cutover-all'}),
        button('Cancel all', () => confirm('Cancel every started task of version ' + number + '?')
            && act('cancel version ' + number, 'POST', '/versions/' + number + '/cancel', {}))) : null,
    el('div', {class: 'toolbar'}, 'Show: ', FILTERS.map(f => el('a', {href: link(f[0], 0),
      class: 'filter' + (f === filter ? ' active' : '')}, f[0])),
        el('span', {class: 'muted'}, list.total ? (page * PAGE_SIZE + 1) + '–' + (page * PAGE_SIZE + list.shards.length)
            + ' of ' + list.total + ' shard(s)' : 'no shard'),
        page > 0 ? el('a', {href: link(filter[0], page - 1)}, '‹ previous') : null,
        (page + 1) * PAGE_SIZE < list.total ? el('a', {href: link(filter[0], page + 1)}, 'next ›') : null),
    el('div', {class: 'legend'}, ['done', 'running', 'waiting', 'pending', 'failed', 'drifted', 'refused', 'blocked']
        .map(s => [el('span', {class: 'swatch ' + s}), s])),
    el('div', {class: 'grid', id: 'grid'}, cells),
    problems.length ? el('section', {}, el('h3', {}, 'Failed at this version (this page)'),
        el('table', {}, el('tr', {}, el('th', {}, 'shard'), el('th', {}, 'schema'), el('th', {}, 'server'),
            el('th', {}, 'last run'), el('th', {})),
            problems.map(s => el('tr', {}, el('td', {}, shardLink(s.id)), el('td', {}, s.schemaName), el('td', {}, s.serverKey),
                el('td', {}, s.lastRunState || ''),
                el('td', {}, button('Retry', () => act('retry shard ' + s.id, 'POST', '/shards/' + s.id + '/retry', {}))))))) : null,
  ];
}

async function shardView(id, openKeys) {
  const [shard, log, status] = await Promise.all([call('GET', '/shards/' + id),
    call('GET', '/shards/' + id + '/runs?limit=100'), call('GET', '/status')]);
  showThrottle(status);
  const tasks = log.online.map(t => el('tr', {'data-online-version': t.version},
      el('td', {}, 'version ' + t.version), el('td', {class: 'phase'}, t.phase),
      el('td', {}, t.progress !== null ? Math.round(t.progress) + '%' : ''),
      el('td', {}, t.etaSeconds !== null ? t.etaSeconds + ' s left' : ''),
      el('td', {}, t.tableRows !== null ? '~' + t.tableRows + ' rows' : ''),
      el('td', {}, ['preparing', 'awaiting approval', 'copying', 'awaiting cut-over'].includes(t.phase) ? [
        t.approved ? null : button('Approve', () => act('approve shard ' + id, 'POST', '/versions/' + t.version + '/approve', {shard: id}), {class: 'approve'}),
        t.cutoverRequested ? null : button('Cut over', () => act('cut-over shard ' + id, 'POST', '/versions/' + t.version + '/cutover', {shard: id})),
        button('Cancel', () => confirm('Cancel version ' + t.version + ' on shard ' + id + '?')
            && act('cancel shard ' + id, 'POST', '/versions/' + t.version + '/cancel', {shard: id}))] : '')));
  const runs = log.runs.map(r => {
    const key = r.version + '/' + r.run + '/' + r.startedAt;
    return el('tr', {},
        el('td', {}, r.version), el('td', {}, r.run), el('td', {class: 'state'}, r.state),
        el('td', {}, r.startedAt || ''), el('td', {}, r.finishedAt || ''),
        el('td', {}, r.message || '', r.executed ? el('pre', {}, r.executed) : null,
            r.output || r.err ? el('details', {'data-key': key, open: openKeys.has(key)}, el('summary', {}, 'output and error'),
                r.output ? el('pre', {}, r.output) : null, r.err ? el('pre', {class: 'err'}, r.err) : null) : null));
  });
  return [
    el('h2', {}, 'Shard ' + id + ': ' + shard.schema + '@' + shard.server),
    el('p', {id: 'shard-state'}, 'At version ' + shard.version + ', ' + shard.state + '. ',
        shard.state === 'failed' ? button('Retry', () => act('retry shard ' + id, 'POST', '/shards/' + id + '/retry', {})) : null),
    el('section', {}, el('h3', {}, 'Online tasks'), tasks.length ? el('table', {id: 'online'},
        el('tr', {}, ['version', 'phase', 'progress', 'time left', 'table', ''].map(h => el('th', {}, h))), tasks) : el('p', {}, 'none')),
    el('section', {}, el('h3', {}, 'Runs (newest first)'), el('table', {id: 'runs'},
        el('tr', {}, ['version', 'run', 'state', 'started', 'finished', 'what happened'].map(h => el('th', {}, h))), runs)),
  ];
}

let rendering = false;
let renderAgain = false;

async function render() {
  if (rendering) {
    renderAgain = true;
    return;
  }
  rendering = true;
  const view = document.getElementById('view');
  const openKeys = new Set([...view.querySelectorAll('details[open]')].map(d => d.dataset.key));
  const [path, query] = (location.hash.slice(1) || '/').split('?');
  const params = new URLSearchParams(query || '');
  let m;
  try {
    const content = (m = path.match(/^\/version\/(\d+)$/)) ? await versionView(parseInt(m[1], 10), params)
        : (m = path.match(/^\/shard\/(\d+)$/)) ? await shardView(parseInt(m[1], 10), openKeys)
        : await fleetView();
    view.replaceChildren(...content.flat(Infinity).filter(c => c !== null));
    document.getElementById('refreshed').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    say('cannot load: ' + e.message, true);
  } finally {
    rendering = false;
  }
  if (renderAgain) {
    renderAgain = false;
    render();
  }
}

document.getElementById('pause').addEventListener('click', () => act('pause', 'POST', '/throttle', {action: 'pause'}));
document.getElementById('resume').addEventListener('click', () => act('resume', 'POST', '/throttle', {action: 'resume'}));
document.getElementById('limit').addEventListener('click', () => act('limit workers', 'POST', '/throttle',
    {action: 'workers', workers: parseInt(document.getElementById('workers').value, 10) || 0}));
window.addEventListener('hashchange', () => {
  document.getElementById('message').hidden = true;
  render();
});
render();
setInterval(render, REFRESH_MS);
