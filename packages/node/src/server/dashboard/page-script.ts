/**
 * The dashboard's script (served at `/dashboard.js`), plain browser
 * JavaScript kept as a string so tsc ships it in dist with no copy step. It
 * polls `/v1/dashboard` every second and redraws; ops/s comes from each
 * member's own one-second samples of its store counters (five minutes kept).
 */

/** The JavaScript of `GET /dashboard.js` (no backticks or template markers inside: it lives in a template). */
export const DASHBOARD_SCRIPT = String.raw`'use strict';
(function () {
  var HISTORY_MS = 5 * 60 * 1000;
  var token = sessionStorage.getItem('shoal-token') || '';
  var series = {}; // node id -> [{ t, v: ops/s }], oldest first
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

  // each node samples its own rates (GET /v1/node opsPerSecond); a member that stops answering keeps its
  // last series until it ages out, so the plot shows where its line ended
  function recordOps(data) {
    data.nodes.forEach(function (n) {
      var h = n.summary && n.summary.opsPerSecond;
      if (!h) return;
      series[n.id] = h.values.map(function (v, i) {
        return { t: h.endAt - (h.values.length - 1 - i) * h.intervalMs, v: v };
      });
    });
    for (var id in series) {
      series[id] = series[id].filter(function (p) { return p.t >= data.at - HISTORY_MS; });
      if (!series[id].length) delete series[id];
    }
  }

  function renderOps(data, ids) {
    var svg = el('ops');
    var W = 600, H = 180, now = data.at;
    var oldest = now, max = 1;
    for (var id in series) {
      series[id].forEach(function (p) { oldest = Math.min(oldest, p.t); max = Math.max(max, p.v); });
    }
    // the x axis grows with the history there is, from one minute up to five
    var span = Math.min(HISTORY_MS, Math.max(60000, now - oldest));
    var parts = ['<line x1="0" y1="' + (H - 1) + '" x2="' + W + '" y2="' + (H - 1) + '" stroke="#ccd3da"/>',
      '<text x="4" y="12" font-size="11" fill="#7a8793">' + Math.round(max) + ' ops/s</text>',
      '<text x="4" y="' + (H - 5) + '" font-size="11" fill="#7a8793">-' + Math.round(span / 1000) + ' s</text>',
      '<text x="' + (W - 26) + '" y="' + (H - 5) + '" font-size="11" fill="#7a8793">now</text>'];
    ids.forEach(function (id) {
      var pts = (series[id] || []).map(function (p) {
        var x = W - ((now - p.t) / span) * W;
        var y = H - 2 - (p.v / max) * (H - 20);
        return x.toFixed(1) + ',' + y.toFixed(1);
      });
      if (pts.length > 1) parts.push('<polyline fill="none" stroke-width="1.5" stroke="' + colorOf(id, ids) + '" points="' + pts.join(' ') + '"/>');
    });
    svg.innerHTML = parts.join('');
    var answering = {};
    data.nodes.forEach(function (n) { if (n.summary) answering[n.id] = true; });
    el('ops-legend').innerHTML = ids.map(function (id) {
      var s = series[id];
      return '<span class="swatch" style="background:' + colorOf(id, ids) + '"></span>' + text(id) + ' ' +
        (answering[id] && s && s.length ? Math.round(s[s.length - 1].v) : '-');
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
    renderOps(data, ids);
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
