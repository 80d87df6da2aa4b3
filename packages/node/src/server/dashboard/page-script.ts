/**
 * The dashboard's script (served at `/dashboard.js`), plain browser
 * JavaScript kept as a string so tsc ships it in dist with no copy step. It
 * polls `/v1/dashboard` every second and redraws; ops/s is the change of
 * each member's store counters between polls, kept for five minutes.
 */

/** The JavaScript of `GET /dashboard.js` (no backticks or template markers inside: it lives in a template). */
export const DASHBOARD_SCRIPT = String.raw`'use strict';
(function () {
  var HISTORY_MS = 5 * 60 * 1000;
  var token = sessionStorage.getItem('shoal-token') || '';
  var previous = {}; // node id -> { t, total }
  var history = []; // { t, rates: { id: ops/s } }, oldest first
  var colors = {};

  function el(id) { return document.getElementById(id); }
  function text(s) { return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; }); }
  function colorOf(id, ids) {
    if (!colors[id]) colors[id] = 'hsl(' + Math.round((ids.indexOf(id) * 137.5 + 210) % 360) + ', 62%, 48%)';
    return colors[id];
  }
  function mb(bytes) { return (bytes / 1048576).toFixed(1) + ' MB'; }

  el('auth-form').addEventListener('submit', function (e) {
    e.preventDefault();
    token = el('token').value.trim();
    sessionStorage.setItem('shoal-token', token);
    el('auth').style.display = 'none';
    poll();
  });

  function renderMembers(data, ids) {
    var rows = data.nodes.map(function (n) {
      var s = n.summary;
      var used = s ? Math.min(100, (100 * s.memory.bytes) / Math.max(1, s.memory.maxBytes)) : 0;
      return '<tr data-member="' + text(n.id) + '" data-state="' + text(n.state) + '">' +
        '<td><span class="swatch" style="background:' + colorOf(n.id, ids) + '"></span>' + text(n.id) +
        (n.id === data.self ? ' <span class="muted">(this node)</span>' : '') + '</td>' +
        '<td>' + text(n.address) + '</td>' +
        '<td><span class="state state-' + text(n.state) + '">' + text(n.state) + '</span></td>' +
        '<td>' + (s ? '<span class="bar"><span style="width:' + used.toFixed(1) + '%"></span></span> ' +
          mb(s.memory.bytes) + ' / ' + mb(s.memory.maxBytes) : '<span class="muted">' + text(n.error || '-') + '</span>') + '</td>' +
        '<td>' + (s ? s.memory.entries : '-') + '</td>' +
        '<td>' + (s ? (100 * s.hitRatio).toFixed(1) + '%' : '-') + '</td>' +
        '<td>' + (s ? s.partitions.primary + ' / ' + s.partitions.replica : '-') + '</td>' +
        '<td>' + (s ? 'score ' + s.gossip.healthScore + ', ' + s.gossip.suspicions + ' suspicions' : '-') + '</td></tr>';
    });
    el('members').innerHTML = rows.join('');
  }

  function renderGrid(data, ids) {
    var owners = data.cluster.owners;
    var grid = el('grid');
    if (grid.children.length !== owners.length) {
      grid.innerHTML = '';
      for (var i = 0; i < owners.length; i++) grid.appendChild(document.createElement('div'));
    }
    var counts = {};
    owners.forEach(function (o, p) {
      var cell = grid.children[p];
      var primary = o[0];
      cell.style.background = primary ? colorOf(primary, ids) : '#ccd3da';
      cell.title = 'partition ' + p + ': ' + (o.length ? o.join(', ') : 'no owner');
      if (primary) counts[primary] = (counts[primary] || 0) + 1;
    });
    el('table-info').textContent = '(table v' + data.cluster.table.version + ', ' + owners.length + ' partitions, ' +
      data.cluster.table.replicas + ' copies' + (data.cluster.rebalancing.running ? ', rebalancing' : '') + ')';
    el('legend').innerHTML = Object.keys(counts).sort().map(function (id) {
      return '<span class="swatch" style="background:' + colorOf(id, ids) + '"></span>' + text(id) + ' ' + counts[id];
    }).join(' &nbsp; ');
  }

  function recordOps(data) {
    var now = Date.now();
    var rates = {};
    data.nodes.forEach(function (n) {
      if (!n.summary) return;
      var o = n.summary.ops;
      var total = o.hits + o.misses + o.sets + o.deletes;
      var p = previous[n.id];
      if (p && now > p.t) rates[n.id] = Math.max(0, ((total - p.total) * 1000) / (now - p.t));
      previous[n.id] = { t: now, total: total };
    });
    history.push({ t: now, rates: rates });
    while (history.length && history[0].t < now - HISTORY_MS) history.shift();
  }

  function renderOps(ids) {
    var svg = el('ops');
    var W = 600, H = 180, now = Date.now();
    // the x axis grows with the history kept, from one minute up to five
    var span = Math.min(HISTORY_MS, Math.max(60000, history.length ? now - history[0].t : 0));
    var max = 1;
    history.forEach(function (h) { for (var id in h.rates) max = Math.max(max, h.rates[id]); });
    var parts = ['<line x1="0" y1="' + (H - 1) + '" x2="' + W + '" y2="' + (H - 1) + '" stroke="#ccd3da"/>',
      '<text x="4" y="12" font-size="11" fill="#7a8793">' + Math.round(max) + ' ops/s</text>',
      '<text x="4" y="' + (H - 5) + '" font-size="11" fill="#7a8793">-' + Math.round(span / 1000) + ' s</text>',
      '<text x="' + (W - 26) + '" y="' + (H - 5) + '" font-size="11" fill="#7a8793">now</text>'];
    ids.forEach(function (id) {
      var pts = history.filter(function (h) { return h.rates[id] !== undefined; }).map(function (h) {
        var x = W - ((now - h.t) / span) * W;
        var y = H - 2 - (h.rates[id] / max) * (H - 20);
        return x.toFixed(1) + ',' + y.toFixed(1);
      });
      if (pts.length > 1) parts.push('<polyline fill="none" stroke-width="1.5" stroke="' + colorOf(id, ids) + '" points="' + pts.join(' ') + '"/>');
    });
    svg.innerHTML = parts.join('');
    var last = history.length ? history[history.length - 1].rates : {};
    el('ops-legend').innerHTML = ids.map(function (id) {
      return '<span class="swatch" style="background:' + colorOf(id, ids) + '"></span>' + text(id) + ' ' +
        (last[id] === undefined ? '-' : Math.round(last[id]));
    }).join(' &nbsp; ');
  }

  function renderTopics(data) {
    if (!data.topics.length) return;
    el('topics').innerHTML = data.topics.map(function (t) {
      var groups = t.groups.map(function (g) { return text(g.group) + ' (' + g.lag + ')'; }).join(', ');
      return '<tr data-topic="' + text(t.topic) + '"><td>' + text(t.topic) + '</td><td>' + t.partitions + '</td><td>' +
        t.messages + '</td><td>' + (groups || '<span class="muted">none</span>') + '</td></tr>';
    }).join('');
  }

  function render(data) {
    var ids = data.nodes.map(function (n) { return n.id; }).sort();
    var alive = data.nodes.filter(function (n) { return n.state === 'alive'; }).length;
    el('status').textContent = 'node ' + data.self + ' - ' + alive + ' of ' + data.nodes.length + ' members alive - ' +
      new Date(data.at).toLocaleTimeString();
    recordOps(data);
    renderMembers(data, ids);
    renderGrid(data, ids);
    renderOps(ids);
    renderTopics(data);
  }

  var timer;
  function poll() {
    clearTimeout(timer);
    var headers = token ? { authorization: 'Bearer ' + token } : {};
    fetch('/v1/dashboard', { headers: headers }).then(function (res) {
      if (res.status === 401 || res.status === 403) {
        el('auth').style.display = 'block';
        el('status').textContent = 'token needed';
        return;
      }
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json().then(function (data) { render(data); timer = setTimeout(poll, 1000); });
    }).catch(function (err) {
      el('status').textContent = 'unreachable: ' + err.message;
      timer = setTimeout(poll, 2000);
    });
  }
  poll();
})();
`;
