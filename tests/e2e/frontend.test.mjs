// The frontend path, as a user meets it: examples/web in headless Chromium (Debian's, driven by
// playwright-core), served from its own origin, calling the throwaway stack's gateway through
// supabase-js with the user's JWT. The stored rows are checked past the API with psql.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { startWebServer } from '../../examples/web/serve.mjs';
import { allowedValues, createUser, stackFromEnv, storedProfile, userToken } from './stack.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = path.join(repoRoot, 'tests/artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// What this machine's Chromium needs headless (Playwright adds --headless, --no-sandbox and a
// fresh --user-data-dir): no GPU, and no background connections to a network that is not there.
const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const READY = 'form[data-ready="true"], #sign-in:not([hidden])';

const stack = stackFromEnv();
/** @type {{ url: string, close: () => Promise<unknown> }} */
let web;
/** @type {import('playwright-core').Browser} */
let browser;
/** Every preflight and every API response the browser saw, for the CORS checks. */
const preflights = [];
const apiResponses = [];
const apiRequestUrls = [];
/** Uncaught errors in any page: there must be none. */
const pageErrors = [];

before(async () => {
  web = await startWebServer({ port: 0, apiUrl: stack.apiUrl, anonKey: stack.anonKey });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await web?.close();
});

/**
 * Opens the page as the holder of `token`, in a fresh browser context (its own sessionStorage),
 * recording what crosses to the API.
 */
async function openPage(token) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const pending = new Map();
  cdp.on('Network.requestWillBeSent', ({ requestId, request }) => {
    if (request.method === 'OPTIONS') pending.set(requestId, request);
  });
  cdp.on('Network.responseReceived', ({ requestId, type, response }) => {
    if (type === 'Preflight' && pending.has(requestId)) {
      preflights.push({ request: pending.get(requestId), response });
    }
  });
  page.on('request', (request) => {
    if (request.url().startsWith(stack.apiUrl)) apiRequestUrls.push(request.url());
  });
  page.on('response', async (response) => {
    if (response.url().startsWith(stack.apiUrl)) {
      apiResponses.push({ url: response.url(), headers: await response.headersArray() });
    }
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${web.url}/#access_token=${token}`);
  await page.waitForSelector(READY);
  return page;
}

/** @param {import('playwright-core').Page} page */
async function selectedValues(page, field) {
  return page.$eval(`#${field}`, (select) =>
    [...select.selectedOptions].map((option) => option.value),
  );
}

/** @param {import('playwright-core').Page} page */
async function save(page) {
  const answered = page.waitForResponse(
    (response) =>
      response.url().startsWith(`${stack.apiUrl}/rest/v1/movement_profiles`) &&
      ['POST', 'PATCH'].includes(response.request().method()),
  );
  await page.click('#save');
  const response = await answered;
  await page.waitForFunction(() => {
    const status = document.getElementById('status');
    return status && status.dataset.kind !== 'info' && status.dataset.kind !== undefined;
  });
  return response;
}

/** @param {import('playwright-core').Page} page */
async function fieldError(page, field) {
  return page.$eval(`#${field}-error`, (box) => ({
    visible: !box.hidden,
    message: box.querySelector('.field-error-message')?.textContent ?? '',
    details: box.querySelector('.field-error-details')?.textContent ?? '',
  }));
}

describe('examples/web against the stack', () => {
  const ada = createUser();
  /** @type {import('playwright-core').Page} */
  let page;

  test('the page is served from another origin than the API, so CORS applies', () => {
    assert.notEqual(new URL(web.url).origin, new URL(stack.apiUrl).origin);
  });

  test('a new user sees multi-selects built from movement_profile_options() and no profile', async () => {
    page = await openPage(userToken(ada));
    assert.equal(new URL(page.url()).hash, '', 'the token is removed from the address bar');
    const allowed = allowedValues();
    for (const field of ['training_preferences', 'goals']) {
      const options = await page.$$eval(`#${field} option`, (all) => all.map((o) => o.value));
      assert.deepEqual(options, allowed[field]);
      assert.equal(await page.getAttribute(`#${field}`, 'multiple'), '');
      assert.deepEqual(await selectedValues(page, field), []);
    }
    assert.match(await page.textContent('#profile-state'), /no movement profile yet/);
    assert.match(await page.textContent('#session'), new RegExp(ada));
  });

  test('creating a profile stores exactly the chosen values (201)', async () => {
    await page.selectOption('#training_preferences', ['running', 'yoga']);
    await page.selectOption('#goals', ['improve_endurance']);
    const response = await save(page);
    assert.equal(response.status(), 201);
    assert.equal(await page.textContent('#status'), 'Profile created.');
    const stored = storedProfile(ada);
    assert.deepEqual(stored.training_preferences, ['running', 'yoga']);
    assert.deepEqual(stored.goals, ['improve_endurance']);
  });

  test('after a reload the page reads the saved profile back', async () => {
    await page.reload();
    await page.waitForSelector('form[data-ready="true"]');
    assert.deepEqual(await selectedValues(page, 'training_preferences'), ['running', 'yoga']);
    assert.deepEqual(await selectedValues(page, 'goals'), ['improve_endurance']);
    assert.match(await page.textContent('#profile-state'), /^Created .* last saved /);
  });

  test('updating from the page changes the stored profile (200) and only updated_at moves', async () => {
    const before = storedProfile(ada);
    await page.selectOption('#goals', ['rehab', 'general_health']);
    const response = await save(page);
    assert.equal(response.status(), 200);
    assert.equal(await page.textContent('#status'), 'Profile saved.');
    const stored = storedProfile(ada);
    assert.deepEqual(stored.goals, ['rehab', 'general_health']);
    assert.deepEqual(stored.training_preferences, ['running', 'yoga']);
    assert.equal(stored.created_at, before.created_at);
    assert.ok(new Date(stored.updated_at) > new Date(before.updated_at));
    await page.screenshot({
      path: path.join(ARTIFACTS, 'frontend-profile-saved.png'),
      fullPage: true,
    });
  });

  test("an invalid value forced through the page shows the database's message by its field", async () => {
    const before = storedProfile(ada);
    // A tampered page: an option the database does not allow, selected and sent.
    await page.$eval('#training_preferences', (select) => select.add(new Option('Dance', 'dance')));
    await page.selectOption('#training_preferences', ['running', 'dance']);
    const response = await save(page);
    assert.equal(response.status(), 400);
    const body = await response.json();
    assert.equal(body.code, '23514');
    assert.equal(body.hint, 'training_preferences');

    const error = await fieldError(page, 'training_preferences');
    assert.equal(error.visible, true);
    assert.equal(error.message, 'training_preferences contains an invalid value: "dance"');
    assert.equal(error.message, body.message, "the page shows the database's own message");
    assert.equal(
      error.details,
      'Allowed values: strength_training, running, yoga, crossfit, sports, mixed',
    );
    assert.equal(await page.getAttribute('#training_preferences', 'aria-invalid'), 'true');
    assert.equal((await fieldError(page, 'goals')).visible, false);
    assert.deepEqual(storedProfile(ada), before, 'nothing was stored');
    await page.screenshot({
      path: path.join(ARTIFACTS, 'frontend-validation-error.png'),
      fullPage: true,
    });
  });

  test('an empty multi-select gets the message next to that field, and the other clears', async () => {
    const before = storedProfile(ada);
    await page.selectOption('#training_preferences', ['strength_training']);
    await page.selectOption('#goals', []);
    const response = await save(page);
    assert.equal(response.status(), 400);
    const goals = await fieldError(page, 'goals');
    assert.equal(goals.visible, true);
    assert.equal(goals.message, 'goals must contain at least one value');
    assert.equal((await fieldError(page, 'training_preferences')).visible, false);
    assert.deepEqual(storedProfile(ada), before, 'nothing was stored');
  });

  test('a save from a stale page changes nothing and shows the latest profile', async () => {
    await page.reload();
    await page.waitForSelector('form[data-ready="true"]');
    const otherTab = await openPage(userToken(ada));
    await otherTab.selectOption('#goals', ['build_muscle']);
    assert.equal((await save(otherTab)).status(), 200);
    await otherTab.context().close();

    await page.selectOption('#goals', ['lose_fat']);
    await save(page);
    assert.match(await page.textContent('#status'), /changed elsewhere/);
    assert.deepEqual(await selectedValues(page, 'goals'), ['build_muscle']);
    assert.deepEqual(storedProfile(ada).goals, ['build_muscle']);
  });

  test("another user never sees this user's profile", async () => {
    const adaBefore = storedProfile(ada);
    const grace = createUser();
    const firstCall = apiRequestUrls.length;
    const gracePage = await openPage(userToken(grace));
    assert.match(await gracePage.textContent('#profile-state'), /no movement profile yet/);
    for (const field of ['training_preferences', 'goals']) {
      assert.deepEqual(await selectedValues(gracePage, field), []);
    }
    const gracePageReads = apiRequestUrls.slice(firstCall).filter((url) => url.includes('user_id'));
    assert.ok(gracePageReads.length > 0);
    for (const url of gracePageReads) assert.ok(url.includes(`user_id=eq.${grace}`), url);
    // Even asked for by id, from the page's origin with Grace's token, Ada's row is not there.
    const asked = await gracePage.evaluate(
      async ({ apiUrl, anonKey, token, userId }) => {
        const response = await fetch(`${apiUrl}/rest/v1/movement_profiles?user_id=eq.${userId}`, {
          headers: { apikey: anonKey, Authorization: `Bearer ${token}` },
        });
        return { status: response.status, body: await response.json() };
      },
      { apiUrl: stack.apiUrl, anonKey: stack.anonKey, token: userToken(grace), userId: ada },
    );
    assert.deepEqual(asked, { status: 200, body: [] });

    await gracePage.selectOption('#training_preferences', ['crossfit']);
    await gracePage.selectOption('#goals', ['lose_fat']);
    assert.equal((await save(gracePage)).status(), 201);
    assert.deepEqual(storedProfile(grace).training_preferences, ['crossfit']);
    assert.deepEqual(storedProfile(ada), adaBefore, "Grace's save left Ada's profile alone");
    await gracePage.context().close();

    await page.reload();
    await page.waitForSelector('form[data-ready="true"]');
    assert.deepEqual(await selectedValues(page, 'training_preferences'), ['running', 'yoga']);
    assert.deepEqual(await selectedValues(page, 'goals'), ['build_muscle']);
  });

  test('an expired token is turned away before any call to the API', async () => {
    const calls = apiRequestUrls.length;
    const expired = await openPage(userToken(ada, { expiresIn: -120 }));
    assert.match(await expired.textContent('#sign-in-reason'), /expired/);
    assert.equal(await expired.isVisible('#profile-form'), false);
    assert.equal(apiRequestUrls.length, calls);
    await expired.context().close();
  });

  test('a page opened without a token asks the user to sign in', async () => {
    const context = await browser.newContext();
    const bare = await context.newPage();
    await bare.goto(web.url);
    await bare.waitForSelector('#sign-in:not([hidden])');
    assert.match(await bare.textContent('#sign-in-reason'), /not signed in/);
    await context.close();
  });

  test('CORS: every cross-origin call was preflighted and allowed for the page origin', async () => {
    const origin = new URL(web.url).origin;
    const methods = new Set(
      preflights.map(({ request }) => request.headers['Access-Control-Request-Method']),
    );
    for (const method of ['GET', 'POST', 'PATCH'])
      assert.ok(methods.has(method), `a ${method} preflight`);
    for (const { request, response } of preflights) {
      const headers = Object.fromEntries(
        Object.entries(response.headers).map(([name, value]) => [name.toLowerCase(), value]),
      );
      assert.equal(response.status, 204, request.url);
      assert.equal(request.headers.Origin, origin);
      assert.ok(['*', origin].includes(headers['access-control-allow-origin']));
      const allowedMethods = headers['access-control-allow-methods'].split(/,\s*/);
      assert.ok(allowedMethods.includes(request.headers['Access-Control-Request-Method']));
      const allowedHeaders = headers['access-control-allow-headers'].toLowerCase().split(/,\s*/);
      for (const asked of request.headers['Access-Control-Request-Headers'].split(',')) {
        assert.ok(allowedHeaders.includes(asked.trim().toLowerCase()), `header ${asked} allowed`);
      }
    }
    // One Access-Control-Allow-Origin per answer: a doubled header makes browsers refuse it.
    assert.ok(apiResponses.length > 0);
    for (const { url, headers } of apiResponses) {
      const allowOrigin = headers.filter(
        ({ name }) => name.toLowerCase() === 'access-control-allow-origin',
      );
      assert.equal(allowOrigin.length, 1, url);
    }
  });

  test('no page threw an uncaught error', () => {
    assert.deepEqual(pageErrors, []);
  });

  test('CORS: a preflight without an apikey (as browsers send it) gets 204, not 401', async () => {
    const origin = new URL(web.url).origin;
    const response = await fetch(`${stack.apiUrl}/rest/v1/movement_profiles?user_id=eq.${ada}`, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers':
          'apikey,authorization,content-profile,content-type,prefer,x-client-info',
      },
    });
    assert.equal(response.status, 204);
    assert.ok(['*', origin].includes(response.headers.get('access-control-allow-origin')));
  });
});
