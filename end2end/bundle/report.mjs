// What the browser downloads per page (issue 14): opens each main route in Chromium, with an
// empty cache, signed in as an Administrator where the page needs it, and adds up the bytes on
// the wire (the encoded length of every response, from Chromium's network events) by kind until
// the page has hydrated and its data has loaded (network idle). Prints a table; exits 1 when a
// page is over its budget. Also counts the requests: split WebAssembly comes in several files.
//
//   node end2end/bundle/report.mjs <base url> <e-mail> <password>
import { chromium } from '@playwright/test';

const [base, email, password] = process.argv.slice(2);
const KB = 1000;
const routes = [
  ['/sign-in', false, 150 * KB],
  ['/', true, 300 * KB],
  ['/customers', true, 300 * KB],
  ['/customers/import', true, 300 * KB],
  ['/customer-types', true, 300 * KB],
  ['/customer-groups', true, 300 * KB],
  ['/companies', true, 300 * KB],
  ['/users', true, 300 * KB],
  ['/roles', true, 300 * KB],
  ['/settings', true, 300 * KB],
  ['/billing', true, 300 * KB],
  ['/api-keys', true, 300 * KB],
  ['/audit', true, 300 * KB],
  ['/outbox', true, 300 * KB],
  ['/profile', true, 300 * KB],
];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

async function signedIn() {
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  await page.goto('/sign-in');
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 60_000 });
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'), { timeout: 30_000 });
  const state = await context.storageState();
  await context.close();
  return state;
}

function kind(url, type) {
  const path = new URL(url).pathname;
  if (path.endsWith('.wasm')) return 'wasm';
  if (path.endsWith('.js')) return 'js';
  if (path.endsWith('.css')) return 'css';
  if (type === 'Document') return 'html';
  return 'data';
}

const state = await signedIn();
const rows = [];
let over = 0;
for (const [route, auth, budget] of routes) {
  const context = await browser.newContext({ baseURL: base, storageState: auth ? state : undefined });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const requests = new Map();
  const bytes = { html: 0, js: 0, wasm: 0, css: 0, data: 0 };
  cdp.on('Network.responseReceived', (e) => requests.set(e.requestId, kind(e.response.url, e.type)));
  let count = 0;
  cdp.on('Network.loadingFinished', (e) => {
    const k = requests.get(e.requestId);
    if (k) { bytes[k] += e.encodedDataLength; count += 1; }
  });
  const started = Date.now();
  await page.goto(route);
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 60_000 });
  await page.waitForLoadState('networkidle');
  const ms = Date.now() - started;
  const total = Object.values(bytes).reduce((a, b) => a + b, 0);
  const ok = total <= budget;
  if (!ok) over += 1;
  if (new URL(page.url()).pathname !== route) throw new Error(`${route} went to ${page.url()}`);
  rows.push({ route, ...bytes, total, count, budget, ms, ok });
  await context.close();
}
await browser.close();

const k = (n) => (n / KB).toFixed(1);
console.log('| page | HTML KB | JS KB | Wasm KB | CSS KB | data KB | total KB | requests | budget KB | ms to hydrated + data | |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.route} | ${k(r.html)} | ${k(r.js)} | ${k(r.wasm)} | ${k(r.css)} | ${k(r.data)} | ${k(r.total)} | ${r.count} | ${k(r.budget)} | ${r.ms} | ${r.ok ? 'ok' : 'OVER'} |`);
}
console.log(over ? `BUNDLE: ${over} of ${rows.length} pages over budget` : `BUNDLE: all ${rows.length} pages within budget`);
process.exit(over ? 1 : 0);
