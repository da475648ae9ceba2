// The support console: plain DOM over the gateway's HTTP/JSON API. The
// token lives in this closure only (no storage, no cookie); every value from
// the API goes into the page as text, never as markup.
'use strict';
(() => {
  let token = null;
  let caller = null;  // {principal, methods}

  const $ = (id) => document.getElementById(id);

  class ApiError extends Error {
    constructor(httpStatus, body) {
      const error = (body && body.error) || {};
      super(error.message || `HTTP ${httpStatus}`);
      this.httpStatus = httpStatus;
      const info = (error.details || []).find((d) => (d['@type'] || '').endsWith('google.rpc.ErrorInfo'));
      this.reason = info ? info.reason : '';
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, {
      method, headers, cache: 'no-store', credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  const enumName = (value, prefix) => (value || '').replace(prefix, '') || '—';

  function money(m) {
    if (!m || !m.currency_code) return '—';
    try {
      const fmt = new Intl.NumberFormat('en', { style: 'currency', currency: m.currency_code });
      const digits = fmt.resolvedOptions().maximumFractionDigits;
      return fmt.format(Number(m.amount_minor || 0) / 10 ** digits);
    } catch (e) {
      return `${m.amount_minor} (minor units) ${m.currency_code}`;
    }
  }

  function time(t) {
    if (!t) return '—';
    return t.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC');
  }

  function link(hash, text, id) { return el('a', { href: hash, id, text }); }

  function list(rows) {
    const dl = el('dl');
    for (const [term, value, id] of rows) {
      const dd = el('dd', { id });
      dd.append(value instanceof Node ? value : document.createTextNode(value || '—'));
      dl.append(el('dt', { text: term }), dd);
    }
    return dl;
  }

  function status(text) { $('status').textContent = text; }
  function showError(e) {
    const why = e.reason ? ` (${e.reason})` : '';
    $('error').textContent = e instanceof ApiError ? `${e.message}${why}` : `Could not reach the gateway: ${e.message}`;
  }
  function clearMessages() { $('error').textContent = ''; status(''); }

  function render(heading, ...nodes) {
    const h = el('h2', { id: 'result-title', tabindex: '-1', text: heading });
    $('result').replaceChildren(h, ...nodes);
    h.focus();
  }

  const can = (method) => caller && caller.methods.includes(`/giftcard.v1.${method}`);
  const newRequestId = () => {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return 'console-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  };

  // --- Views -------------------------------------------------------------

  // A PIN typed where a serial belongs (DESIGN.md, Codes: 16 symbols of
  // Crockford base32, separators and case ignored, O→0, I/L→1). It must
  // never reach the address bar, the history or a request line: it is looked
  // up in a POST body and the page goes on by the card's serial.
  let noteAfterLookup = '';
  const SERIAL = /^GC\d{12,19}$/;
  function asPin(text) {
    const folded = text.toUpperCase().replace(/[^0-9A-Z]/g, '')
      .replace(/O/g, '0').replace(/[IL]/g, '1');
    if (SERIAL.test(folded)) return null;
    return /^[0-9A-HJKMNP-TV-Z]{16}$/.test(folded) ? folded : null;
  }

  async function lookUpByPin(pin) {
    clearMessages();
    status('Looking the card up by its PIN…');
    const code = await api('POST', '/v1/codes:lookup', { code: pin });
    noteAfterLookup = 'That was the card\'s PIN, not its serial: it was looked up without ' +
      'entering the address bar or the history.';
    go(`#/code/${encodeURIComponent(code.serial)}`);
  }

  // "REDEEMING → REDEEMED, 2026-12-07 10:00:00 UTC, by storefront (request r-1)".
  function changeText(c) {
    if (!c || !c.to_state) return '—';
    const from = c.from_state ? `${enumName(c.from_state, 'CODE_STATE_')} → ` : '';
    const who = c.principal ? `, by ${c.principal}` : '';
    const req = c.request_id ? ` (request ${c.request_id})` : '';
    const why = c.reason ? `: ${c.reason}` : '';
    return `${from}${enumName(c.to_state, 'CODE_STATE_')}, ${time(c.change_time)}${who}${req}${why}`;
  }

  // Every change of the card, oldest first: who did what, why.
  function historyTable(changes) {
    const rows = changes.map((c) => el('tr', {},
      el('td', { text: time(c.change_time) }),
      el('td', { text: c.from_state ? enumName(c.from_state, 'CODE_STATE_') : '—' }),
      el('td', { text: enumName(c.to_state, 'CODE_STATE_') }),
      el('td', { text: c.principal || '—' }),
      el('td', { text: c.reason || '—' }),
      el('td', { text: c.request_id || '—' })));
    // Scrolls within its box on a phone, as the statement does.
    return el('div', { class: 'table-wrap' }, el('table', { id: 'code-history' },
      el('caption', { text: `History (${rows.length} changes, oldest first)` }),
      el('thead', {}, el('tr', {},
        ...['Time', 'From', 'To', 'Who', 'Why', 'Request'].map((t) => el('th', { scope: 'col', text: t })))),
      el('tbody', {}, ...rows)));
  }

  async function showCode(serial) {
    clearMessages();
    status(`Looking up ${serial}…`);
    const id = encodeURIComponent(serial);
    const [code, history] = await Promise.all([
      api('GET', `/v1/codes/${id}`),
      can('CodeVault/ListCodeChanges')
        ? api('GET', `/v1/codes/${id}/changes?page_size=100`) : Promise.resolve(null),
    ]);
    // The box shows the card on the page, whichever way the page was reached.
    $('serial').value = code.serial;
    const state = enumName(code.state, 'CODE_STATE_');
    const account = code.redeemed_by_account_id
      ? link(`#/account/${encodeURIComponent(code.redeemed_by_account_id)}`, code.redeemed_by_account_id, 'code-account')
      : '—';
    // What support is asked first comes first: state, value, the last change.
    const nodes = [list([
      ['State', el('span', { class: 'state', text: state }), 'code-state'],
      ['Value', money(code.amount), 'code-value'],
      ['Last change', changeText(code.last_change), 'code-last-change'],
      ['Redeemed by', account],
      ['Region', code.region, 'code-region'],
      ['Batch', code.batch_id],
      ['PIN ends in', code.pin_last4],
      ['Issued', time(code.create_time)],
      ['Activated', time(code.activate_time)],
      ['Redeemed', time(code.redeem_time)],
      ['Redemption', code.redemption_id],
      ['Expires', time(code.expire_time)],
      ['Voided', code.void_time ? `${time(code.void_time)}: ${code.void_reason}` : '—'],
      ['Blocked', code.block_time ? `${time(code.block_time)}: ${code.block_reason}` : '—'],
    ])];
    if (state === 'BLOCKED' && can('CodeVault/UnblockCodes')) {
      nodes.push(holdForm(code.serial, 'unblock', 'Unblock card', 'codes:unblock', 'Card unblocked.'));
    } else if ((state === 'ACTIVE' || state === 'ISSUED') && can('CodeVault/BlockCodes')) {
      nodes.push(holdForm(code.serial, 'block', 'Block card', 'codes:block', 'Card blocked.'));
    }
    if (history) nodes.push(historyTable(history.changes || []));
    render(`Card ${code.serial}`, ...nodes);
    status(noteAfterLookup);
    noteAfterLookup = '';
  }

  // Admin: block or unblock one card, with the reason the audit trail keeps.
  function holdForm(serial, action, label, verb, done) {
    const form = el('form', { id: `${action}-form` },
      el('label', { for: `${action}-reason`, text: `Why (${action === 'block' ? 'the fraud case' : 'the case closed'})` }),
      el('input', { id: `${action}-reason`, required: true, autocomplete: 'off' }),
      el('button', { type: 'submit', id: action, class: action === 'block' ? 'danger' : '', text: label }));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const reason = $(`${action}-reason`).value.trim();
      try {
        await api('POST', `/v1/${verb}`, { serials: [serial], reason, request_id: newRequestId() });
        await showCode(serial);
        status(done);
      } catch (e) { showError(e); }
    });
    return form;
  }

  async function showAccount(accountId) {
    clearMessages();
    $('serial').value = '';  // The box names a card; this page is not one.
    status(`Opening ${accountId}…`);
    const id = encodeURIComponent(accountId);
    const [account, ledger] = await Promise.all([
      api('GET', `/v1/accounts/${id}`),
      api('GET', `/v1/accounts/${id}/ledgerEntries?page_size=100`),
    ]);
    const rows = (ledger.entries || []).map((e) => {
      const kind = enumName(e.kind, 'LEDGER_ENTRY_KIND_');
      const ref = kind.startsWith('INVOICE') && e.reference
        ? link(`#/invoice/${encodeURIComponent(e.reference)}`, e.reference)
        : (e.reference || '—');
      return el('tr', {},
        el('td', { text: time(e.create_time) }),
        el('td', { text: kind }),
        el('td', {}, ref),
        el('td', { class: 'num', text: money(e.amount) }),
        el('td', { class: 'num', text: money(e.balance_after) }));
    });
    const table = el('table', { id: 'statement' },
      el('caption', { text: `Statement (${rows.length} entries${ledger.next_page_token ? ', newest page first' : ''})` }),
      el('thead', {}, el('tr', {},
        ...['Time', 'Kind', 'Reference'].map((t) => el('th', { scope: 'col', text: t })),
        el('th', { scope: 'col', class: 'num', text: 'Amount' }),
        el('th', { scope: 'col', class: 'num', text: 'Balance after' }))),
      el('tbody', {}, ...rows));
    render(`Account ${account.account_id}`,
      list([
        ['Balance', money(account.balance), 'account-balance'],
        // Owed from a clawback the balance did not cover; next credits pay it first.
        ...(Number(account.owed?.amount_minor || 0) > 0
          ? [['Owed (clawback)', money(account.owed), 'account-owed']] : []),
        ['Country', account.country],
        ['Currency', account.currency_code],
        ['Billing', enumName(account.billing_channel, 'BILLING_CHANNEL_')],
        ['State', enumName(account.state, 'ACCOUNT_STATE_')],
        ['Opened', time(account.create_time)],
      ]),
      el('div', { class: 'table-wrap' }, table));
    status('');
  }

  async function showInvoice(invoiceId) {
    clearMessages();
    $('serial').value = '';  // The box names a card; this page is not one.
    status(`Opening invoice ${invoiceId}…`);
    const app = await api('GET', `/v1/invoices/${encodeURIComponent(invoiceId)}/creditApplication`);
    render(`Invoice ${app.invoice_id}`, list([
      ['State', el('span', { class: 'state', text: enumName(app.state, 'CREDIT_APPLICATION_STATE_') }), 'invoice-state'],
      ['Account', link(`#/account/${encodeURIComponent(app.account_id)}`, app.account_id)],
      ['Amount due', money(app.amount_due)],
      ['Credit applied', money(app.applied), 'invoice-applied'],
      ['Left to charge', money(app.amount_to_charge)],
      ['Credit left', money(app.remaining_credit)],
      ['Next invoice covered', app.next_invoice_covered ? 'yes' : 'no'],
      ['Applied', time(app.create_time)],
      ['Updated', time(app.update_time)],
    ]));
    status('');
  }

  // --- Navigation ----------------------------------------------------------

  async function route() {
    if (!token) return;
    const [, kind, raw] = location.hash.match(/^#\/(code|account|invoice)\/(.+)$/) || [];
    if (!kind) { $('result').replaceChildren(); return; }
    const value = decodeURIComponent(raw);
    try {
      if (kind === 'code') await showCode(value);
      if (kind === 'account') await showAccount(value);
      if (kind === 'invoice') await showInvoice(value);
    } catch (e) {
      status('');
      showError(e);
      $('result').replaceChildren();
    }
  }

  function go(hash) {
    if (location.hash === hash) route(); else location.hash = hash;
  }

  function signedIn(who) {
    caller = who;
    $('principal').textContent = who.principal;
    $('session').hidden = false;
    $('sign-in-view').hidden = true;
    $('lookup-view').hidden = false;
    $('token').value = '';
    $('serial').focus();
    status(`Signed in as ${who.principal}.`);
    route();
  }

  function signOut() {
    token = null;
    caller = null;
    $('session').hidden = true;
    $('sign-in-view').hidden = false;
    $('lookup-view').hidden = true;
    $('result').replaceChildren();
    clearMessages();
    history.replaceState(null, '', location.pathname);
    $('token').focus();
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('sign-in-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      clearMessages();
      token = $('token').value.trim();
      try {
        signedIn(await api('GET', '/v1/caller'));
      } catch (e) {
        token = null;
        showError(e);
        $('token').focus();
      }
    });
    $('sign-out').addEventListener('click', signOut);
    $('lookup-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const typed = $('serial').value.trim();
      const pin = asPin(typed);
      if (!pin) {
        go(`#/code/${encodeURIComponent(typed)}`);
        return;
      }
      $('serial').value = '';  // Nor left in the form for the browser to remember.
      try {
        await lookUpByPin(pin);
      } catch (e) {
        status('');
        showError(e);
      }
    });
    $('account-form').addEventListener('submit', (event) => {
      event.preventDefault();
      go(`#/account/${encodeURIComponent($('account-id').value.trim())}`);
    });
    $('invoice-form').addEventListener('submit', (event) => {
      event.preventDefault();
      go(`#/invoice/${encodeURIComponent($('invoice-id').value.trim())}`);
    });
    window.addEventListener('hashchange', route);
    $('token').focus();
  });
})();
