/**
 * The dashboard page shell (served at `/`): plain HTML and CSS, no framework.
 * Everything it shows comes from `/dashboard.js` polling `/v1/dashboard`, so
 * the page itself holds no data and needs no token.
 */

/** The HTML of `GET /`. */
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shoal dashboard</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2733; background: #f4f6f8; }
  body { margin: 0; padding: 16px 24px; }
  header { display: flex; align-items: baseline; gap: 16px; }
  h1 { font-size: 20px; margin: 0 0 12px; }
  h2 { font-size: 15px; margin: 0 0 8px; color: #3b4a5a; }
  section { background: #fff; border-radius: 6px; padding: 12px 16px; margin-bottom: 14px; box-shadow: 0 1px 2px #0001; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e6eaee; }
  th { color: #5b6b7b; font-weight: 600; }
  .state { display: inline-block; padding: 1px 8px; border-radius: 9px; font-size: 12px; color: #fff; }
  .state-alive { background: #2e9d57; } .state-suspect { background: #d99b1c; }
  .state-dead { background: #c8373a; } .state-left { background: #7a8793; }
  .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
  .bar { position: relative; width: 140px; height: 10px; background: #e6eaee; border-radius: 5px; display: inline-block; vertical-align: middle; }
  .bar > span { position: absolute; left: 0; top: 0; bottom: 0; background: #3a78c2; border-radius: 5px; }
  #grid { display: grid; grid-template-columns: repeat(30, 14px); gap: 2px; }
  #grid div { width: 14px; height: 14px; border-radius: 2px; background: #ccd3da; }
  .muted { color: #7a8793; font-size: 12px; }
  #status { font-size: 13px; }
  #auth { display: none; }
  #auth input { width: 280px; }
  .row { display: flex; gap: 14px; flex-wrap: wrap; }
  .row > section { flex: 1 1 420px; }
</style>
</head>
<body>
<header><h1>Shoal</h1><span id="status" class="muted">connecting...</span></header>
<section id="auth">
  <h2>This node needs a token</h2>
  <form id="auth-form"><input id="token" type="password" placeholder="bearer token" autocomplete="off">
  <button type="submit">Use token</button></form>
</section>
<section>
  <h2>Members</h2>
  <table><thead><tr><th>node</th><th>address</th><th>state</th><th>memory vs budget</th><th>entries</th>
  <th>hit ratio</th><th>partitions (primary / replica)</th><th>health</th></tr></thead>
  <tbody id="members"></tbody></table>
</section>
<div class="row">
<section>
  <h2>Partition ownership <span id="table-info" class="muted"></span></h2>
  <div id="grid"></div>
  <div id="legend" class="muted"></div>
</section>
<section>
  <h2>Store operations/s <span class="muted">(last 5 minutes, per node)</span></h2>
  <svg id="ops" width="100%" height="180" viewBox="0 0 600 180" preserveAspectRatio="none"></svg>
  <div id="ops-legend" class="muted"></div>
</section>
</div>
<section>
  <h2>Topics</h2>
  <table><thead><tr><th>topic</th><th>partitions with messages</th><th>messages retained</th><th>consumer groups (lag)</th></tr></thead>
  <tbody id="topics"><tr><td colspan="4" class="muted">no topics</td></tr></tbody></table>
</section>
<script src="/dashboard.js"></script>
</body>
</html>
`;
