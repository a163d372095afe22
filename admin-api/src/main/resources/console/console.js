// The metering console: a page over the admin API, nothing more. The admin key lives in this
// tab's sessionStorage and goes out only as the Authorization header of same-origin requests.
// Every value from the API is put into the page as text (never as HTML): names and descriptions
// are the tenants' own strings.
'use strict';
(() => {
  const STORAGE_KEY = 'metering.adminKey';
  const REFRESH_MS = 15000;
  const EVENT_TYPES = ['key_created', 'key_updated', 'permission_changed', 'limit_changed', 'key_revoked',
    'key_rotated', 'key_suspended', 'key_reinstated', 'alert_created', 'alert_deleted', 'alert_secret_rotated',
    'threshold_crossed', 'limit_breached', 'usage_spike', 'alert_delivered', 'alert_delivery_failed', 'budget_changed',
    'org_suspended', 'org_reinstated'];
  const COLORS = ['#2456c8', '#e07b00', '#1f9d6a', '#c23b6d', '#7a4fd0', '#0f8fa8', '#b89a00', '#6b7a8f',
    '#d1495b', '#3d8f3d'];
  const SERIES_SHOWN = 8;

  const $ = (selector) => document.querySelector(selector);
  const state = { tab: 'usage', keys: [], keyNames: new Map(), hourlyKey: null, loads: 0, auditCursors: [null], auditIndex: 0, csvUrl: null };

  // ---- DOM helpers: text only ----
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else if (name === 'style') node.style.cssText = value;  // the CSSOM, which the page's CSP allows
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function svg(tag, attributes, ...children) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const fill = (tbody, rows) => tbody.replaceChildren(...rows);
  const number = (n) => Number(n || 0).toLocaleString('en-US');
  const dollars = (n) => '$' + Number(n || 0).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 });
  const today = () => new Date().toISOString().slice(0, 10);
  const monthStart = () => today().slice(0, 8) + '01';
  const dayAfter = (day) => new Date(Date.parse(day + 'T00:00:00Z') + 86400000).toISOString().slice(0, 10);
  const daysBefore = (day, n) => new Date(Date.parse(day + 'T00:00:00Z') - n * 86400000).toISOString().slice(0, 10);
  const when = (instant) => instant ? instant.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';

  function showError(message) {
    $('#error').textContent = message || '';
  }

  // ---- the admin API ----
  async function api(method, path, body) {
    const headers = { Authorization: 'Bearer ' + sessionStorage.getItem(STORAGE_KEY), Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let json = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch (e) {
      json = {};
    }
    if (!response.ok) {
      const message = json.error && json.error.message ? json.error.message : response.status + ' ' + response.statusText;
      const error = new Error(message);
      error.status = response.status;
      if (response.status === 401) signOut('The admin key was refused: ' + message);
      throw error;
    }
    return json;
  }

  /** Every bucket of a report, its pages followed, with each bucket's results merged. */
  async function report(path) {
    const byStart = new Map();
    let page = null;
    let asOf = null;
    do {
      const answer = await api('GET', path + (page ? '&page=' + encodeURIComponent(page) : ''));
      for (const bucket of answer.data) {
        const results = byStart.get(bucket.starting_at) || [];
        results.push(...bucket.results);
        byStart.set(bucket.starting_at, results);
      }
      asOf = answer.as_of || asOf;
      page = answer.has_more ? answer.next_page : null;
    } while (page);
    return { buckets: [...byStart.entries()].sort((a, b) => a[0].localeCompare(b[0])), asOf };
  }

  async function allKeys() {
    const keys = [];
    let after = null;
    do {
      const page = await api('GET', '/v1/organizations/api_keys?limit=100' + (after ? '&after_id=' + encodeURIComponent(after) : ''));
      keys.push(...page.data);
      after = page.has_more ? page.last_id : null;
    } while (after);
    state.keys = keys;
    for (const key of keys) state.keyNames.set(key.id, key.name);
    return keys;
  }

  function setAsOf(asOf) {
    $('#as-of').textContent = asOf ? 'Data as of ' + when(asOf) : 'No usage counted yet';
  }

  // ---- sign-in ----
  async function signIn(event) {
    event.preventDefault();
    const input = $('#admin-key');
    sessionStorage.setItem(STORAGE_KEY, input.value.trim());
    input.value = '';
    try {
      const page = await api('GET', '/v1/organizations/api_keys?limit=1');
      $('#sign-in-error').textContent = '';
      enter(page.data.length ? page.data[0].org_id : '');
    } catch (error) {
      sessionStorage.removeItem(STORAGE_KEY);
      $('#sign-in-error').textContent = error.status === 403 ? 'That key is not an admin key.'
        : error.status === 401 ? 'That key was not accepted.' : 'Sign-in failed: ' + error.message;
      showSignIn();
    }
  }

  function enter(orgId) {
    $('#sign-in').hidden = true;
    $('#app').hidden = false;
    $('#session').hidden = false;
    $('#org').textContent = orgId ? 'Organisation ' + orgId : '';
    route();
  }

  function showSignIn() {
    $('#sign-in').hidden = false;
    $('#app').hidden = true;
    $('#session').hidden = true;
    $('#admin-key').focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(STORAGE_KEY);
    state.keys = [];
    state.keyNames.clear();
    $('#sign-in-error').textContent = typeof message === 'string' ? message : '';
    showSignIn();
  }

  // ---- navigation and refresh ----
  function route() {
    const tab = (location.hash || '#usage').slice(1);
    state.tab = ['usage', 'keys', 'budget', 'alerts', 'audit'].includes(tab) ? tab : 'usage';
    for (const panel of document.querySelectorAll('[data-panel]')) panel.hidden = panel.dataset.panel !== state.tab;
    for (const link of document.querySelectorAll('nav a')) {
      if (link.dataset.tab === state.tab) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    refresh();
  }

  /**
   * Loads the tab shown. Loads overlap (a click while the page refreshes itself): only the latest
   * may draw, else an older answer (say, before a filter was applied) would overwrite a newer one.
   */
  async function refresh() {
    if (!sessionStorage.getItem(STORAGE_KEY)) return;
    state.loads++;
    showError('');
    try {
      if (state.tab === 'usage') await loadUsage();
      else if (state.tab === 'keys') await loadKeys();
      else if (state.tab === 'budget') await loadBudget();
      else if (state.tab === 'alerts') await loadAlerts();
      else await loadAudit();
    } catch (error) {
      if (error.status !== 401) showError(error.status === 503 ? 'Not available right now (' + error.message + '); the page tries again shortly.' : error.message);
    }
  }

  function autoRefresh() {
    const busy = document.querySelector('dialog[open]') || document.visibilityState !== 'visible'
      || (document.activeElement && ['INPUT', 'SELECT', 'TEXTAREA'].includes(document.activeElement.tagName)
        && document.activeElement.type !== 'checkbox')
      || (state.tab === 'audit' && state.auditIndex > 0);
    if ($('#auto-refresh').checked && !busy && !$('#app').hidden) refresh();
  }

  // ---- usage ----
  const superseded = (load) => load !== state.loads;

  async function loadUsage() {
    const load = state.loads;
    const start = $('#usage-start').value;
    const end = $('#usage-end').value;
    const group = $('#usage-group').value;
    const metric = $('#usage-metric').value;
    const dates = 'start_date=' + start + '&end_date=' + end;
    const [summary, byKey, daily, month] = await Promise.all([
      api('GET', '/v1/organizations/usage?' + dates),
      api('GET', '/v1/organizations/usage/by_key?' + dates),
      report('/v1/organizations/usage_report?bucket_width=1d&group_by=' + group + '&starting_at=' + start
        + 'T00:00:00Z&ending_at=' + dayAfter(end) + 'T00:00:00Z'),
      api('GET', '/v1/organizations/current_period'),
      state.keys.length ? Promise.resolve() : allKeys()]);
    if (superseded(load)) return;
    $('#projected').textContent = number(month.projected.total_tokens) + ' tokens';
    $('#projected-cost').textContent = dollars(month.projected.estimated_cost) + ' (' + month.period + ' so far: '
      + number(month.usage.total_tokens) + ' tokens, ' + dollars(month.usage.estimated_cost) + ')';
    for (const row of byKey.data) if (row.key_name) state.keyNames.set(row.api_key_id, row.key_name);
    setAsOf(summary.as_of);
    $('#total-tokens').textContent = number(summary.total_tokens);
    $('#total-cost').textContent = dollars(summary.estimated_cost);
    $('#total-requests').textContent = number(summary.requests);

    const label = (result) => group === 'model' ? result.model : (state.keyNames.get(result.api_key_id) || result.api_key_id);
    const value = (usage) => metric === 'cost' ? Number(usage.estimated_cost) : usage.total_tokens;
    const days = daily.buckets.map(([startingAt]) => startingAt.slice(0, 10));
    const totals = new Map();
    for (const [, results] of daily.buckets) {
      for (const result of results) totals.set(label(result), (totals.get(label(result)) || 0) + value(result.usage));
    }
    const ranked = [...totals.entries()].filter(([, total]) => total > 0).sort((a, b) => b[1] - a[1]);
    const shown = ranked.slice(0, SERIES_SHOWN).map(([name]) => name);
    const names = ranked.length > SERIES_SHOWN ? [...shown, 'other'] : shown;
    const series = names.map((name, i) => ({ name, color: COLORS[i % COLORS.length], values: days.map(() => 0) }));
    const csv = [['date', group === 'model' ? 'model' : 'api_key', 'tokens', 'cost_usd']];
    daily.buckets.forEach(([startingAt, results], day) => {
      for (const result of results) {
        const name = shown.includes(label(result)) ? label(result) : 'other';
        const target = series.find((s) => s.name === name);
        if (target) target.values[day] += value(result.usage);
        csv.push([startingAt.slice(0, 10), label(result), result.usage.total_tokens, result.usage.estimated_cost]);
      }
    });
    $('#daily-caption').textContent = 'Daily ' + (metric === 'cost' ? 'estimated cost' : 'tokens') + ' by '
      + (group === 'model' ? 'model' : 'key') + ', ' + start + ' to ' + end;
    barChart($('#daily-chart'), days, series, metric === 'cost' ? dollars : number);
    $('#daily-legend').replaceChildren(...series.map((s) => el('li', {},
      el('span', { class: 'swatch', style: 'background:' + s.color }), s.name)));
    setCsv(csv, 'usage-' + start + '-' + end + '.csv');

    const total = byKey.data.reduce((sum, row) => sum + row.total_tokens, 0);
    const top = [...byKey.data].sort((a, b) => b.total_tokens - a.total_tokens).slice(0, 10);
    fill($('#top-keys tbody'), top.map((row) => {
      const share = total ? row.total_tokens / total : 0;
      return el('tr', {}, el('td', {}, row.key_name || row.api_key_id), el('td', { class: 'num' }, number(row.total_tokens)),
        el('td', { class: 'num' }, dollars(row.estimated_cost)),
        el('td', {}, el('div', { class: 'bar', role: 'img', 'aria-label': (share * 100).toFixed(1) + '% of tokens' },
          el('span', { style: 'width:' + (share * 100).toFixed(1) + '%' })), el('small', {}, (share * 100).toFixed(1) + '%')));
    }));
    if (!top.length) fill($('#top-keys tbody'), [el('tr', {}, el('td', { colspan: 4 }, 'No usage in this range.'))]);

    // the key the admin chose, else the busiest key of the range
    const select = $('#hourly-key');
    const candidates = [...new Map([...byKey.data.map((r) => [r.api_key_id, r.key_name || r.api_key_id]),
      ...state.keys.map((k) => [k.id, k.name])]).entries()];
    select.replaceChildren(...candidates.map(([id, name]) => el('option', { value: id }, name + ' (' + id + ')')));
    if (state.hourlyKey && candidates.some(([id]) => id === state.hourlyKey)) select.value = state.hourlyKey;
    else if (top.length) select.value = top[0].api_key_id;
    await loadHourly();
  }

  async function loadHourly() {
    const load = state.loads;
    const id = $('#hourly-key').value;
    const end = $('#usage-end').value;
    const start = [$('#usage-start').value, daysBefore(end, 2)].sort()[1];
    const metric = $('#usage-metric').value;
    if (!id) {
      barChart($('#hourly-chart'), [], [], number);
      return;
    }
    const hourly = await report('/v1/organizations/api_keys/' + encodeURIComponent(id) + '/usage_report?bucket_width=1h'
      + '&starting_at=' + start + 'T00:00:00Z&ending_at=' + dayAfter(end) + 'T00:00:00Z');
    if (superseded(load)) return;
    const hours = hourly.buckets.map(([startingAt]) => startingAt.slice(5, 13).replace('T', ' ') + 'h');
    const values = hourly.buckets.map(([, results]) => results.reduce((sum, r) =>
      sum + (metric === 'cost' ? Number(r.usage.estimated_cost) : r.usage.total_tokens), 0));
    $('#hourly-caption').textContent = 'Hourly ' + (metric === 'cost' ? 'estimated cost' : 'tokens') + ' of '
      + (state.keyNames.get(id) || id) + ', ' + start + ' to ' + end + ' (UTC)';
    barChart($('#hourly-chart'), hours, [{ name: state.keyNames.get(id) || id, color: COLORS[0], values }],
      metric === 'cost' ? dollars : number);
  }

  /** A stacked bar chart in SVG; each bar names its day, series and value in a tooltip. */
  function barChart(container, labels, series, format) {
    const width = 1000, height = 260, left = 80, right = 10, top = 10, bottom = 30;
    const totals = labels.map((_, i) => series.reduce((sum, s) => sum + s.values[i], 0));
    const max = roundUp(Math.max(0, ...totals));
    const chart = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, role: 'img', preserveAspectRatio: 'none',
      'aria-label': series.length ? 'bar chart: ' + series.map((s) => s.name + ' ' + format(s.values.reduce((a, b) => a + b, 0))).join(', ')
        : 'no usage' });
    if (!labels.length || max === 0) {
      chart.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'empty' }, 'No usage in this range'));
      container.replaceChildren(chart);
      return;
    }
    const plotHeight = height - top - bottom;
    const slot = (width - left - right) / labels.length;
    for (let i = 0; i <= 4; i++) {
      const y = top + plotHeight - (plotHeight * i) / 4;
      chart.append(svg('line', { x1: left, x2: width - right, y1: y, y2: y, stroke: '#e3e6ec' }),
        svg('text', { x: left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' }, format((max * i) / 4)));
    }
    const every = Math.ceil(labels.length / 16);
    labels.forEach((label, i) => {
      let y = top + plotHeight;
      for (const s of series) {
        const value = s.values[i];
        if (value <= 0) continue;
        const h = (value / max) * plotHeight;
        y -= h;
        chart.append(svg('rect', { x: left + i * slot + slot * 0.15, y, width: slot * 0.7, height: h, fill: s.color,
          'data-series': s.name, 'data-label': label, 'data-value': value }, svg('title', {}, label + ' · ' + s.name + ': ' + format(value))));
      }
      if (i % every === 0) {
        chart.append(svg('text', { x: left + i * slot + slot / 2, y: height - 10, 'text-anchor': 'middle', class: 'axis' },
          label.length > 5 ? label.slice(5) : label));
      }
    });
    container.replaceChildren(chart);
  }

  /** The axis' top: the total rounded up to 1, 2, 2.5 or 5 times a power of ten, so the ticks read well. */
  function roundUp(total) {
    if (total <= 0) return 0;
    const power = Math.pow(10, Math.floor(Math.log10(total)));
    return [1, 2, 2.5, 5, 10].map((m) => m * power).find((top) => top >= total);
  }

  function csvCell(value) {
    let text = value === null || value === undefined ? '' : String(value);
    if (/^[=+\-@\t\r]/.test(text) && !/^[-+]?[0-9.]+$/.test(text)) text = "'" + text;
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function setCsv(rows, filename) {
    if (state.csvUrl) URL.revokeObjectURL(state.csvUrl);
    state.csvUrl = URL.createObjectURL(new Blob([rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n'],
      { type: 'text/csv' }));
    const link = $('#usage-csv');
    link.href = state.csvUrl;
    link.download = filename;
  }

  // ---- keys ----
  function keyStatus(key) {
    if (key.status === 'revoked') return 'revoked';
    return key.suspended ? 'suspended' : 'active';
  }

  async function loadKeys() {
    const load = state.loads;
    const [keys, month] = await Promise.all([allKeys(),
      api('GET', '/v1/organizations/usage/by_key?start_date=' + monthStart() + '&end_date=' + today())]);
    if (superseded(load)) return;
    setAsOf(month.as_of);
    const used = new Map(month.data.map((row) => [row.api_key_id, row]));
    fill($('#keys-table tbody'), keys.map((key) => {
      const row = used.get(key.id) || { total_tokens: 0, cost_micros: 0 };
      // each limit's share used; the bar shows the one nearer to being reached
      const shares = [];
      if (key.max_tokens_per_month) {
        shares.push({ percent: (100 * row.total_tokens) / key.max_tokens_per_month, text: number(row.total_tokens) + ' tokens' });
      }
      if (key.max_cost_per_month) {
        shares.push({ percent: row.cost_micros / (10000 * Number(key.max_cost_per_month)), text: dollars(row.cost_micros / 1e6) });
      }
      const share = shares.sort((a, b) => b.percent - a.percent)[0];
      const status = keyStatus(key);
      const usedCell = share
        ? [el('div', { class: 'bar' + (share.percent >= 100 ? ' over' : ''), role: 'img', 'aria-label': share.percent.toFixed(1) + '% of the limit used' },
          el('span', { style: 'width:' + Math.min(100, share.percent).toFixed(1) + '%' })),
        el('small', {}, share.text + ' (' + share.percent.toFixed(1) + '%)')]
        : [el('small', {}, number(row.total_tokens) + ' tokens')];
      const limits = [key.max_tokens_per_month ? number(key.max_tokens_per_month) + ' tokens' : null,
        key.max_cost_per_month ? '$' + key.max_cost_per_month : null].filter((x) => x);
      const revoked = key.status === 'revoked';
      return el('tr', { 'data-key-id': key.id },
        el('td', {}, el('strong', {}, key.name), el('br'), el('small', {}, key.id + ' · ' + key.key_prefix + '…')),
        el('td', {}, el('span', { class: 'status ' + status }, status)),
        el('td', { class: 'num' }, limits.length ? limits.join(' or ') : '—'),
        el('td', { class: 'used' }, usedCell),
        el('td', {}, key.hard_limit ? 'yes' : 'no'),
        el('td', {}, key.suspended_until ? when(key.suspended_until) : ''),
        el('td', {}, el('div', { class: 'actions' },
          el('button', { type: 'button', disabled: revoked, onclick: () => editKey(key), 'aria-label': 'edit ' + key.name }, 'Edit'),
          el('button', { type: 'button', disabled: revoked, onclick: () => rotateKey(key), 'aria-label': 'rotate ' + key.name }, 'Rotate'),
          el('button', { type: 'button', class: 'danger', disabled: revoked, onclick: () => revokeKey(key),
            'aria-label': 'revoke ' + key.name }, 'Revoke'))));
    }));
  }

  async function createKey(event) {
    event.preventDefault();
    const limit = $('#new-key-limit').value;
    const body = {
      name: $('#new-key-name').value.trim(),
      permissions: [...document.querySelectorAll('input[name="new-key-permission"]:checked')].map((box) => box.value),
      hard_limit: $('#new-key-hard').checked,
    };
    if ($('#new-key-description').value.trim()) body.description = $('#new-key-description').value.trim();
    if (limit) body.max_tokens_per_month = Number(limit);
    if ($('#new-key-cost').value.trim()) body.max_cost_per_month = $('#new-key-cost').value.trim();
    try {
      const created = await api('POST', '/v1/organizations/api_keys', body);
      $('#create-key-form').reset();
      $('#create-key').open = false;
      showSecret(created.key);
      await loadKeys();
    } catch (error) {
      showError('The key was not created: ' + error.message);
    }
  }

  function showSecret(secret) {
    $('#secret-value').textContent = secret;
    $('#secret-dialog').showModal();
  }

  function forgetSecret() {
    $('#secret-value').textContent = '';
  }

  async function copySecret() {
    const secret = $('#secret-value').textContent;
    try {
      await navigator.clipboard.writeText(secret);
      $('#secret-copy').textContent = 'Copied';
    } catch (e) {
      const range = document.createRange();
      range.selectNodeContents($('#secret-value'));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      $('#secret-copy').textContent = 'Press Ctrl+C';
    }
  }

  function editKey(key) {
    $('#edit-title').textContent = 'Edit ' + key.name;
    $('#edit-limit').value = key.max_tokens_per_month || '';
    $('#edit-cost').value = key.max_cost_per_month || '';
    $('#edit-hard').checked = key.hard_limit;
    for (const box of document.querySelectorAll('input[name="edit-permission"]')) box.checked = key.permissions.includes(box.value);
    const form = $('#edit-form');
    form.onsubmit = async (event) => {
      event.preventDefault();
      const limit = $('#edit-limit').value;
      const cost = $('#edit-cost').value.trim();
      const changes = { max_tokens_per_month: limit ? Number(limit) : null, max_cost_per_month: cost || null,
        hard_limit: $('#edit-hard').checked };
      if (!key.permissions.includes('admin')) {
        changes.permissions = [...document.querySelectorAll('input[name="edit-permission"]:checked')].map((box) => box.value);
      }
      try {
        await api('POST', '/v1/organizations/api_keys/' + encodeURIComponent(key.id), changes);
        $('#edit-dialog').close();
        await loadKeys();
      } catch (error) {
        showError('The change was refused: ' + error.message);
        $('#edit-dialog').close();
      }
    };
    $('#edit-dialog').showModal();
  }

  function rotateKey(key) {
    $('#rotate-title').textContent = 'Rotate the secret of ' + key.name;
    $('#rotate-form').onsubmit = async (event) => {
      event.preventDefault();
      try {
        const rotated = await api('POST', '/v1/organizations/api_keys/' + encodeURIComponent(key.id) + '/rotate',
          { grace_period_seconds: Number($('#rotate-grace').value) });
        $('#rotate-dialog').close();
        showSecret(rotated.key);
        await loadKeys();
      } catch (error) {
        $('#rotate-dialog').close();
        showError('The secret was not rotated: ' + error.message);
      }
    };
    $('#rotate-dialog').showModal();
  }

  function confirmThen(text, action) {
    $('#confirm-text').textContent = text;
    $('#confirm-yes').onclick = async () => {
      $('#confirm-dialog').close();
      try {
        await action();
      } catch (error) {
        showError(error.message);
      }
    };
    $('#confirm-dialog').showModal();
  }

  function revokeKey(key) {
    confirmThen('Revoke ' + key.name + '? Gateways refuse it from now on; this cannot be undone.', async () => {
      await api('POST', '/v1/organizations/api_keys/' + encodeURIComponent(key.id) + '/revoke');
      await loadKeys();
    });
  }

  // ---- budget ----
  function usageBar(used, limit, text) {
    if (!limit) return el('small', {}, 'no budget');
    const percent = (100 * used) / limit;
    return el('div', {}, el('div', { class: 'bar' + (percent >= 100 ? ' over' : ''), role: 'img',
      'aria-label': percent.toFixed(1) + '% of the budget used' },
    el('span', { style: 'width:' + Math.min(100, percent).toFixed(1) + '%' })),
    el('small', {}, percent.toFixed(1) + '% of ' + text));
  }

  async function loadBudget() {
    const load = state.loads;
    const [budget, period] = await Promise.all([api('GET', '/v1/organizations/budget'),
      api('GET', '/v1/organizations/current_period')]);
    if (superseded(load)) return;
    setAsOf(period.as_of);
    $('#budget-tokens').textContent = number(period.usage.total_tokens);
    $('#budget-cost').textContent = dollars(period.usage.estimated_cost);
    $('#budget-tokens-bar').replaceChildren(usageBar(period.usage.total_tokens, budget.max_tokens_per_month,
      number(budget.max_tokens_per_month) + ' tokens'));
    $('#budget-cost-bar').replaceChildren(usageBar(period.usage.cost_micros,
      budget.max_cost_per_month ? Number(budget.max_cost_per_month) * 1e6 : null, '$' + budget.max_cost_per_month));
    $('#budget-projected').textContent = number(period.projected.total_tokens) + ' tokens';
    $('#budget-projected-cost').textContent = dollars(period.projected.estimated_cost);
    const status = $('#budget-status');
    status.className = 'status-line ' + (budget.suspended ? 'suspended' : 'active');
    status.textContent = budget.suspended
      ? 'Suspended: every key of the organisation but its admin keys is refused until '
        + when(budget.suspended_until) + ', or until the budget is raised.'
      : !budget.max_tokens_per_month && !budget.max_cost_per_month ? 'No budget: usage is not capped above the keys.'
      : 'Within budget (' + (budget.hard_limit ? 'hard: reaching it suspends the keys' : 'soft: reaching it alerts only') + ').';
    // the form shows the budget as stored, but only when it changed: a refresh must not undo an edit in progress
    const version = budget.updated_at || 'never';
    if (state.budgetVersion !== version) {
      state.budgetVersion = version;
      $('#budget-limit').value = budget.max_tokens_per_month || '';
      $('#budget-cost-limit').value = budget.max_cost_per_month || '';
      $('#budget-hard').checked = budget.hard_limit;
    }
    $('#budget-updated').textContent = budget.updated_by
      ? 'Last changed by ' + budget.updated_by + ' at ' + when(budget.updated_at) : 'Never set.';
  }

  async function saveBudget(event) {
    event.preventDefault();
    const limit = $('#budget-limit').value;
    const cost = $('#budget-cost-limit').value.trim();
    try {
      await api('POST', '/v1/organizations/budget', { max_tokens_per_month: limit ? Number(limit) : null,
        max_cost_per_month: cost || null, hard_limit: $('#budget-hard').checked });
      state.budgetVersion = null;
      await loadBudget();
    } catch (error) {
      showError('The budget was not changed: ' + error.message);
    }
  }

  // ---- alerts ----
  async function loadAlerts() {
    const load = state.loads;
    const [rules, keys, deliveries] = await Promise.all([api('GET', '/v1/organizations/alerts'), allKeys(),
      api('GET', '/v1/organizations/audit_logs?start_date=' + daysBefore(today(), 7) + '&end_date=' + today()
        + '&event_types=alert_delivered,alert_delivery_failed&limit=50')]);
    if (superseded(load)) return;
    const select = $('#new-alert-key');
    const chosen = select.value;
    select.replaceChildren(el('option', { value: '' }, "The organisation's budget"),
      ...keys.filter((k) => k.status === 'active' && !k.permissions.includes('admin'))
        .map((k) => el('option', { value: k.id }, 'Key ' + k.name
          + (k.max_tokens_per_month || k.max_cost_per_month ? '' : ' (no limit)'))));
    if (chosen) select.value = chosen;
    fill($('#alerts-table tbody'), rules.data.map((rule) => el('tr', { 'data-alert-id': rule.id },
      el('td', {}, rule.name),
      el('td', {}, rule.key_id ? state.keyNames.get(rule.key_id) || rule.key_id : "the organisation's budget"),
      el('td', { class: 'num' }, rule.threshold_percent + '%'), el('td', {}, rule.notification_email || ''),
      el('td', {}, rule.webhook_url || ''),
      el('td', {}, el('button', { type: 'button', class: 'danger', 'aria-label': 'delete rule ' + rule.name,
        onclick: () => confirmThen('Delete the rule ' + rule.name + '?', async () => {
          await api('DELETE', '/v1/organizations/alerts/' + encodeURIComponent(rule.id));
          await loadAlerts();
        }) }, 'Delete')))));
    if (!rules.data.length) fill($('#alerts-table tbody'), [el('tr', {}, el('td', { colspan: 6 }, 'No alert rules yet.'))]);
    fill($('#notifications-table tbody'), deliveries.data.map((entry) => {
      const failed = entry.event_type === 'alert_delivery_failed';
      return el('tr', {}, el('td', {}, when(entry.timestamp)),
        el('td', { class: failed ? 'outcome-failed' : 'outcome-delivered' }, failed ? 'failed' : 'delivered'),
        el('td', {}, state.keyNames.get(entry.api_key_id) || entry.api_key_id || ''), el('td', {}, entry.description));
    }));
    if (!deliveries.data.length) fill($('#notifications-table tbody'), [el('tr', {}, el('td', { colspan: 4 }, 'No notifications in the last 7 days.'))]);
  }

  async function createAlert(event) {
    event.preventDefault();
    const body = { name: $('#new-alert-name').value.trim(), threshold_percent: Number($('#new-alert-threshold').value) };
    // no key: a rule on the organisation's budget
    if ($('#new-alert-key').value) body.key_id = $('#new-alert-key').value;
    if ($('#new-alert-email').value.trim()) body.notification_email = $('#new-alert-email').value.trim();
    if ($('#new-alert-webhook').value.trim()) body.webhook_url = $('#new-alert-webhook').value.trim();
    try {
      const created = await api('POST', '/v1/organizations/alerts', body);
      $('#create-alert-form').reset();
      $('#create-alert').open = false;
      if (created.webhook_secret) showSecret(created.webhook_secret);
      await loadAlerts();
    } catch (error) {
      showError('The rule was not created: ' + error.message);
    }
  }

  // ---- audit log ----
  async function loadAudit() {
    const load = state.loads;
    const types = [...document.querySelectorAll('#audit-types input:checked')].map((box) => box.value);
    const cursor = state.auditCursors[state.auditIndex];
    const page = await api('GET', '/v1/organizations/audit_logs?limit=50&start_date=' + $('#audit-start').value
      + '&end_date=' + $('#audit-end').value + (types.length ? '&event_types=' + types.join(',') : '')
      + (cursor ? '&page=' + encodeURIComponent(cursor) : ''));
    if (!state.keys.length) await allKeys();
    if (superseded(load)) return;
    fill($('#audit-table tbody'), page.data.map((entry) => el('tr', { 'data-event-type': entry.event_type },
      el('td', {}, when(entry.timestamp)), el('td', {}, entry.event_type), el('td', {}, entry.actor),
      el('td', {}, entry.api_key_id ? (state.keyNames.get(entry.api_key_id) || entry.api_key_id) : ''),
      el('td', {}, entry.description))));
    if (!page.data.length) fill($('#audit-table tbody'), [el('tr', {}, el('td', { colspan: 5 }, 'Nothing in this range.'))]);
    state.auditCursors.length = state.auditIndex + 1;
    if (page.has_more) state.auditCursors.push(page.next_page);
    $('#audit-older').disabled = !page.has_more;
    $('#audit-newer').disabled = state.auditIndex === 0;
  }

  function auditPage(step) {
    state.auditIndex = Math.max(0, state.auditIndex + step);
    refresh();
  }

  // ---- start ----
  function init() {
    $('#usage-start').value = monthStart();
    $('#usage-end').value = today();
    $('#audit-start').value = daysBefore(today(), 7);
    $('#audit-end').value = today();
    $('#audit-types').append(...EVENT_TYPES.map((type) => el('label', { class: 'inline' },
      el('input', { type: 'checkbox', value: type }), type)));
    $('#sign-in-form').addEventListener('submit', signIn);
    $('#sign-out').addEventListener('click', () => signOut(''));
    $('#refresh').addEventListener('click', refresh);
    $('#usage-form').addEventListener('submit', (event) => { event.preventDefault(); refresh(); });
    $('#usage-group').addEventListener('change', refresh);
    $('#usage-metric').addEventListener('change', refresh);
    const chooseHourlyKey = (event) => {
      event.preventDefault();
      state.hourlyKey = $('#hourly-key').value;
      loadHourly().catch((e) => showError(e.message));
    };
    $('#hourly-form').addEventListener('submit', chooseHourlyKey);
    $('#hourly-key').addEventListener('change', chooseHourlyKey);
    $('#create-key-form').addEventListener('submit', createKey);
    $('#create-alert-form').addEventListener('submit', createAlert);
    $('#budget-form').addEventListener('submit', saveBudget);
    $('#audit-form').addEventListener('submit', (event) => { event.preventDefault(); state.auditIndex = 0; refresh(); });
    $('#audit-older').addEventListener('click', () => auditPage(1));
    $('#audit-newer').addEventListener('click', () => auditPage(-1));
    $('#secret-copy').addEventListener('click', copySecret);
    $('#secret-done').addEventListener('click', () => $('#secret-dialog').close());
    $('#secret-dialog').addEventListener('close', () => { forgetSecret(); $('#secret-copy').textContent = 'Copy'; });
    for (const cancel of document.querySelectorAll('dialog .cancel')) {
      cancel.addEventListener('click', () => cancel.closest('dialog').close());
    }
    window.addEventListener('hashchange', route);
    setInterval(autoRefresh, REFRESH_MS);
    if (sessionStorage.getItem(STORAGE_KEY)) {
      api('GET', '/v1/organizations/api_keys?limit=1')
        .then((page) => enter(page.data.length ? page.data[0].org_id : ''))
        .catch(() => signOut('Sign in again.'));
    } else {
      showSignIn();
    }
  }

  init();
})();
