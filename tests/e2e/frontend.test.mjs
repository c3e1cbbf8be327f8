// The frontend path, as a person meets it: examples/web in headless Chromium (Debian's, driven by
// playwright-core), served from its own origin, calling the throwaway stack's gateway through
// supabase-js with the user's JWT. The stored rows are checked past the API with psql.
//
// Every state of the page (loading, no profile, profile, field errors, stale save, signed out) is
// checked by axe-core at desktop and phone width, measured at 375 px (no sideways scroll, controls
// at least 44 px), and photographed into tests/artifacts/ at 375 and 1280 px. One user works the
// page with the keyboard alone, another on a touch phone.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { startWebServer } from '../../examples/web/serve.mjs';
import { changedPixels } from './png.mjs';
import {
  admin,
  allowedValues,
  catalogue,
  createUser,
  psql,
  stackFromEnv,
  storedProfile,
  userToken,
} from './stack.mjs';

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
const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const AXE_SOURCE = readFileSync(AXE_PATH, 'utf8');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 667 };
/** The smallest control a finger hits reliably (WCAG 2.5.5), in CSS pixels. */
const TARGET = 44;
/** The built-in fields: every test below fills them in; other fields may be there too. */
const FIELDS = ['training_preferences', 'goals'];
const STORAGE_KEY = 'movement-profiles.session';

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
/** What axe and the phone measurements found, per state: written to tests/artifacts/. */
const findings = {};

before(async () => {
  web = await startWebServer({ port: 0, apiUrl: stack.apiUrl, anonKey: stack.anonKey });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await web?.close();
  writeFileSync(
    path.join(ARTIFACTS, 'frontend-findings.json'),
    `${JSON.stringify(findings, null, 2)}\n`,
  );
});

/**
 * Opens the page as the holder of `token`, in a fresh browser context (its own sessionStorage),
 * recording what crosses to the API. `contextOptions` may make it a phone.
 * @param {string} token
 * @param {import('playwright-core').BrowserContextOptions} contextOptions
 */
async function openPage(token, contextOptions = {}) {
  const context = await browser.newContext({ viewport: DESKTOP, ...contextOptions });
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

/**
 * The catalogue as the database holds it, read past the API; read again (`known = catalogue()`)
 * after a test changes it.
 */
let known = catalogue();

/** The legend a person reads for a field: its label in the catalogue. */
function legendOf(field) {
  const entry = known.fields.find(({ name }) => name === field);
  if (!entry) throw new Error(`no field ${field} in the catalogue`);
  return entry.label;
}

/**
 * The label a person reads for a value: the catalogue's; for a value the catalogue does not hold
 * (a tampered page's), the catalogue's default, `strength_training` -> `Strength training`.
 */
function labelOf(field, value) {
  const entry = known.fields.find(({ name }) => name === field);
  const found = entry?.values.find((item) => item.value === value);
  return found?.label ?? value.charAt(0).toUpperCase() + value.slice(1).replace(/_/g, ' ');
}

/**
 * A field's checkbox as a person (or a screen reader) finds it: by the group's legend and the
 * checkbox's label, not by id.
 * @param {import('playwright-core').Page} page
 */
function checkbox(page, field, value) {
  return page
    .getByRole('group', { name: legendOf(field), exact: true })
    .getByRole('checkbox', { name: labelOf(field, value), exact: true });
}

/** The fields the page shows, by name, in its order. @param {import('playwright-core').Page} page */
async function shownFields(page) {
  return page.$$eval('#fields > fieldset', (groups) =>
    groups.map((group) => group.getAttribute('data-field')),
  );
}

/** @param {import('playwright-core').Page} page */
async function checkedValues(page, field) {
  return page.$$eval(`#field-${field} input[type="checkbox"]:checked`, (boxes) =>
    boxes.map((box) => box.value),
  );
}

/**
 * Clicks (or taps) the field's checkboxes so that exactly `values` are checked.
 * @param {import('playwright-core').Page} page
 */
async function choose(page, field, values, { tap = false } = {}) {
  for (const value of await page.$$eval(`#field-${field} input[type="checkbox"]`, (boxes) =>
    boxes.map((box) => box.value),
  )) {
    const box = checkbox(page, field, value);
    if ((await box.isChecked()) !== values.includes(value)) {
      await (tap ? box.tap() : box.click());
    }
  }
  assert.deepEqual(await checkedValues(page, field), values);
}

/**
 * Saves (by `press`: clicking Save unless told otherwise) and waits for the API's answer and the
 * page's verdict.
 * @param {import('playwright-core').Page} page
 */
async function save(page, press = () => page.click('#save')) {
  const answered = page.waitForResponse(
    (response) =>
      response.url().startsWith(`${stack.apiUrl}/rest/v1/movement_profiles`) &&
      ['POST', 'PATCH'].includes(response.request().method()),
  );
  await press();
  const response = await answered;
  await page.waitForFunction(() => {
    const status = document.getElementById('status');
    return status && status.dataset.kind !== 'info' && status.dataset.kind !== undefined;
  });
  return response;
}

/** @param {import('playwright-core').Page} page */
async function fieldError(page, field) {
  return page.$eval(`#field-${field}`, (group) => {
    const box = group.querySelector('.field-error');
    const describedBy = (group.getAttribute('aria-describedby') ?? '').split(/\s+/);
    return {
      visible: !!box && !box.hidden && box.getClientRects().length > 0,
      message: box?.querySelector('.field-error-message')?.textContent ?? '',
      details: box?.querySelector('.field-error-details')?.textContent ?? '',
      // Announced: the fieldset and each of its checkboxes say "invalid", and the message is
      // part of the fieldset's description.
      groupInvalid: group.getAttribute('aria-invalid') === 'true',
      boxesInvalid: [...group.querySelectorAll('input')].map(
        (input) => input.getAttribute('aria-invalid') === 'true',
      ),
      describedByError: !!box && describedBy.includes(box.id),
    };
  });
}

/** axe-core, injected into the page as it is, run with its default rule set. */
async function runAxe(page) {
  if (!(await page.evaluate(() => 'axe' in window))) {
    await page.addScriptTag({ content: AXE_SOURCE });
  }
  return page.evaluate(async () => {
    // @ts-ignore: injected above
    const result = await window.axe.run(document);
    return {
      version: result.testEngine.version,
      violations: result.violations.map((rule) => ({
        rule: rule.id,
        impact: rule.impact,
        help: rule.help,
        nodes: rule.nodes.map((node) => node.target.join(' ')),
      })),
      passes: result.passes.map((rule) => rule.id),
      incomplete: result.incomplete.map((rule) => rule.id),
    };
  });
}

/**
 * What a phone user would notice: whether anything scrolls sideways, and how big the controls
 * they can reach are.
 * @param {import('playwright-core').Page} page
 */
async function measureLayout(page) {
  return page.evaluate(() => {
    const shown = (element) =>
      element.getClientRects().length > 0 && getComputedStyle(element).visibility !== 'hidden';
    const name = (element) =>
      element.id || element.getAttribute('aria-label') || element.textContent.trim();
    const viewport = document.documentElement.clientWidth;
    const controls = [
      ...document.querySelectorAll(
        'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])',
      ),
    ]
      .filter(shown)
      .map((element) => {
        const box = element.getBoundingClientRect();
        return { control: name(element), width: box.width, height: box.height };
      });
    const overflowing = [...document.body.querySelectorAll('*')]
      .filter((element) => shown(element) && element.getBoundingClientRect().right > viewport + 0.5)
      .map(name);
    const before = window.scrollY;
    window.scrollTo(10_000, before);
    const scrolledX = window.scrollX;
    window.scrollTo(0, before);
    return {
      innerWidth: window.innerWidth,
      clientWidth: viewport,
      scrollWidth: document.documentElement.scrollWidth,
      scrolledX,
      overflowing,
      controls,
    };
  });
}

/** @param {Awaited<ReturnType<typeof measureLayout>>} layout */
function assertFitsPhone(layout, state) {
  assert.equal(layout.innerWidth, PHONE.width, `${state}: the viewport is a phone's`);
  assert.ok(
    layout.scrollWidth <= layout.clientWidth,
    `${state}: ${layout.scrollWidth}px wide in ${layout.clientWidth}px (${layout.overflowing})`,
  );
  assert.equal(layout.scrolledX, 0, `${state}: the page scrolls sideways`);
  assert.deepEqual(layout.overflowing, [], `${state}: elements past the right edge`);
  for (const { control, width, height } of layout.controls) {
    assert.ok(height >= TARGET, `${state}: ${control} is ${height}px high, under ${TARGET}px`);
    assert.ok(width >= TARGET, `${state}: ${control} is ${width}px wide, under ${TARGET}px`);
  }
}

/**
 * One state of the page, checked as people meet it: axe-core finds no violations at desktop and
 * at phone width; at phone width nothing scrolls sideways and every control is big enough;
 * full-page screenshots at both widths go to tests/artifacts/frontend-STATE-WIDTH.png.
 * @param {import('playwright-core').Page} page
 * @param {string} state
 */
async function inspectState(page, state, { widths = [DESKTOP, PHONE] } = {}) {
  const original = page.viewportSize();
  const found = {};
  try {
    for (const size of widths) {
      await page.setViewportSize(size);
      const axe = await runAxe(page);
      assert.deepEqual(axe.violations, [], `axe-core, state "${state}" at ${size.width}px`);
      found[size.width] = {
        axe: `${axe.version}: ${axe.violations.length} violations, ${axe.passes.length} passed`,
        incomplete: axe.incomplete,
      };
      if (size.width === PHONE.width) {
        const layout = await measureLayout(page);
        assertFitsPhone(layout, state);
        found[size.width].layout = {
          scrollWidth: layout.scrollWidth,
          clientWidth: layout.clientWidth,
          controls: layout.controls.map(
            ({ control, width, height }) => `${control}: ${width.toFixed(1)}x${height.toFixed(1)}`,
          ),
        };
      }
      await page.screenshot({
        path: path.join(ARTIFACTS, `frontend-${state}-${size.width}.png`),
        fullPage: true,
      });
    }
  } finally {
    if (original) await page.setViewportSize(original);
  }
  findings[state] = found;
}

describe('examples/web against the stack', () => {
  const ada = createUser();
  /** @type {import('playwright-core').Page} */
  let page;

  test('the page is served from another origin than the API, so CORS applies', () => {
    assert.notEqual(new URL(web.url).origin, new URL(stack.apiUrl).origin);
  });

  test('while it loads, the page says so (and is busy to screen readers), then shows the form', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const loading = await context.newPage();
    loading.on('pageerror', (error) => pageErrors.push(error.message));
    /** @type {() => void} */
    let release = () => {};
    const held = new Promise((resolve) => {
      release = () => resolve(undefined);
    });
    /** @type {(value: unknown) => void} */
    let asked = () => {};
    const askedFor = new Promise((resolve) => {
      asked = resolve;
    });
    await loading.route('**/rest/v1/rpc/movement_profile_catalogue*', async (route) => {
      asked(undefined);
      await held;
      await route.continue();
    });
    await loading.goto(`${web.url}/#access_token=${userToken(createUser())}`);
    await askedFor; // the page is waiting for the API now
    assert.equal(await loading.textContent('#loading'), 'Loading your profile…');
    assert.equal(await loading.isVisible('#loading'), true);
    assert.equal(await loading.getAttribute('main', 'aria-busy'), 'true');
    assert.equal(await loading.isVisible('#profile-form'), false);
    assert.equal(await loading.isVisible('#sign-in'), false);
    await inspectState(loading, 'loading');
    release();
    await loading.waitForSelector('form[data-ready="true"]');
    assert.equal(await loading.getAttribute('main', 'aria-busy'), 'false');
    assert.equal(await loading.isVisible('#loading'), false);
    await context.close();
  });

  test('the form is built from whatever movement_profile_catalogue() returns', async () => {
    // A value and a field the page has never heard of: they appear with the catalogue's labels
    // (not ones derived from the names), a value's description describes its checkbox, and a
    // required field says so.
    const context = await browser.newContext({ viewport: DESKTOP });
    const tampered = await context.newPage();
    tampered.on('pageerror', (error) => pageErrors.push(error.message));
    await tampered.route('**/rest/v1/rpc/movement_profile_catalogue*', async (route) => {
      const response = await route.fetch();
      const answer = await response.json();
      answer.fields
        .find(({ name }) => name === 'goals')
        .values.push({
          value: 'martial_arts',
          label: 'Kickboxing',
          description: 'Any striking art',
        });
      answer.fields.push({
        name: 'sleep',
        label: 'Your sleep',
        description: 'How you sleep most nights.',
        required: true,
        built_in: false,
        values: [{ value: 'under_six_hours', label: 'Less than 6 hours', description: '' }],
      });
      await route.fulfill({ response, json: answer });
    });
    await tampered.goto(`${web.url}/#access_token=${userToken(createUser())}`);
    await tampered.waitForSelector('form[data-ready="true"]');
    const goals = await tampered.$$eval('#field-goals input', (boxes) =>
      boxes.map((box) => box.value),
    );
    assert.deepEqual(goals, [...allowedValues().goals, 'martial_arts']);
    const kickboxing = tampered
      .getByRole('group', { name: legendOf('goals'), exact: true })
      .getByRole('checkbox', { name: 'Kickboxing', exact: true });
    assert.equal(await kickboxing.count(), 1);
    assert.equal(
      await kickboxing.evaluate(
        (box) => document.getElementById(box.getAttribute('aria-describedby') ?? '')?.textContent,
      ),
      'Any striking art',
    );
    assert.deepEqual((await shownFields(tampered)).slice(-1), ['sleep']);
    const sleep = tampered.getByRole('group', { name: 'Your sleep', exact: true });
    assert.equal(
      await sleep.getByRole('checkbox', { name: 'Less than 6 hours', exact: true }).count(),
      1,
    );
    assert.equal(
      await tampered.textContent('#help-sleep'),
      'How you sleep most nights. Required: choose at least one.',
    );
    await inspectState(tampered, 'catalogue-labels', { widths: [PHONE] });
    await context.close();
  });

  test('a new user sees a fieldset of checkboxes per field, built from the allowed values, none checked', async () => {
    page = await openPage(userToken(ada));
    assert.equal(new URL(page.url()).hash, '', 'the token is removed from the address bar');
    assert.equal(await page.locator('select').count(), 0, 'no <select multiple> any more');
    assert.equal(await page.isVisible('#loading'), false);
    known = catalogue();
    // Every field of the catalogue, in its order: the two built-in ones first.
    assert.deepEqual(
      await shownFields(page),
      known.fields.map(({ name }) => name),
    );
    assert.deepEqual(await shownFields(page).then((shown) => shown.slice(0, 2)), FIELDS);
    for (const { name: field, label, description, required, values } of known.fields) {
      const group = page.getByRole('group', { name: label, exact: true });
      assert.equal(await group.count(), 1, `a group named "${label}"`);
      assert.equal(await group.evaluate((element) => element.tagName), 'FIELDSET');
      assert.equal(await page.textContent(`#field-${field} > legend`), label);
      const requirement = required ? 'Required: choose at least one.' : 'Optional.';
      assert.equal(
        await page.textContent(`#help-${field}`),
        description ? `${description} ${requirement}` : requirement,
      );
      const boxes = await page.$$eval(`#field-${field} input`, (inputs) =>
        inputs.map((box) => `${box.type}:${box.name}:${box.value}`),
      );
      assert.deepEqual(
        boxes,
        values.map(({ value }) => `checkbox:${field}:${value}`),
      );
      for (const { value, label: valueLabel } of values) {
        assert.equal(await checkbox(page, field, value).count(), 1, `${field}: ${valueLabel}`);
      }
      assert.deepEqual(await checkedValues(page, field), []);
      assert.equal((await fieldError(page, field)).groupInvalid, false);
    }
    // The labels people read, spelled out once rather than only looked up.
    assert.equal(
      await page.getByRole('group', { name: 'Training preferences', exact: true }).count(),
      1,
    );
    assert.equal(
      await page.getByRole('checkbox', { name: 'Strength training', exact: true }).count(),
      1,
    );
    assert.equal(await page.getAttribute('#status', 'role'), 'status');
    assert.equal(await page.getAttribute('#status', 'aria-live'), 'polite');
    assert.match(await page.textContent('#profile-state'), /no movement profile yet/);
    assert.equal(await page.textContent('#save'), 'Create profile');
    assert.match(await page.textContent('#session'), new RegExp(ada));
    await inspectState(page, 'no-profile');
  });

  test('creating a profile stores exactly the chosen values (201)', async () => {
    await choose(page, 'training_preferences', ['running', 'yoga']);
    await choose(page, 'goals', ['improve_endurance']);
    const response = await save(page);
    assert.equal(response.status(), 201);
    assert.equal(await page.textContent('#status'), 'Profile created.');
    const stored = storedProfile(ada);
    assert.deepEqual(stored.training_preferences, ['running', 'yoga']);
    assert.deepEqual(stored.goals, ['improve_endurance']);
  });

  test('after a reload the page reads the saved profile back, its choices checked', async () => {
    await page.reload();
    await page.waitForSelector('form[data-ready="true"]');
    assert.deepEqual(await checkedValues(page, 'training_preferences'), ['running', 'yoga']);
    assert.deepEqual(await checkedValues(page, 'goals'), ['improve_endurance']);
    assert.equal(await checkbox(page, 'training_preferences', 'yoga').isChecked(), true);
    assert.equal(await checkbox(page, 'training_preferences', 'crossfit').isChecked(), false);
    assert.match(await page.textContent('#profile-state'), /^Created .* last saved /);
    assert.equal(await page.textContent('#save'), 'Save');
  });

  test('updating from the page changes the stored profile (200) and only updated_at moves', async () => {
    const before = storedProfile(ada);
    await choose(page, 'goals', ['rehab', 'general_health']);
    const response = await save(page);
    assert.equal(response.status(), 200);
    assert.equal(await page.textContent('#status'), 'Profile saved.');
    const stored = storedProfile(ada);
    assert.deepEqual(stored.goals, ['rehab', 'general_health']);
    assert.deepEqual(stored.training_preferences, ['running', 'yoga']);
    assert.equal(stored.created_at, before.created_at);
    assert.ok(new Date(stored.updated_at) > new Date(before.updated_at));
    await inspectState(page, 'profile');
  });

  test("an invalid value forced through the page shows the database's message in its field, announced", async () => {
    const before = storedProfile(ada);
    // A tampered page: a checkbox for a value the database does not allow, checked and sent.
    await page.$eval('#field-training_preferences .choices', (choices) => {
      const box = Object.assign(document.createElement('input'), {
        type: 'checkbox',
        name: 'training_preferences',
        value: 'dance',
        id: 'choice-training_preferences-dance',
      });
      const text = Object.assign(document.createElement('span'), {
        className: 'choice-label',
        textContent: 'Dance',
      });
      const choice = Object.assign(document.createElement('label'), { className: 'choice' });
      choice.htmlFor = box.id;
      choice.append(box, text);
      choices.append(choice);
    });
    await choose(page, 'training_preferences', ['running', 'dance']);
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
    assert.equal(error.groupInvalid, true, 'aria-invalid on the fieldset');
    assert.ok(error.boxesInvalid.every(Boolean), 'aria-invalid on its checkboxes');
    assert.equal(error.describedByError, true, 'the message describes the fieldset');
    // The live region says what happened; focus goes to the field to fix.
    assert.equal(
      await page.textContent('#status'),
      `Not saved: ${body.message} (see Training preferences).`,
    );
    assert.equal(
      await page.evaluate(() => document.activeElement?.closest('fieldset')?.id),
      'field-training_preferences',
    );
    const goals = await fieldError(page, 'goals');
    assert.equal(goals.visible, false);
    assert.equal(goals.groupInvalid, false);
    assert.equal(goals.describedByError, false);
    assert.deepEqual(storedProfile(ada), before, 'nothing was stored');
    await inspectState(page, 'error-invalid-value');
  });

  test('an empty field gets the message in that field, and the other clears', async () => {
    const before = storedProfile(ada);
    await choose(page, 'training_preferences', ['strength_training']);
    await choose(page, 'goals', []);
    const response = await save(page);
    assert.equal(response.status(), 400);
    const goals = await fieldError(page, 'goals');
    assert.equal(goals.visible, true);
    assert.equal(goals.message, 'goals must contain at least one value');
    assert.equal(goals.groupInvalid, true);
    assert.equal(goals.describedByError, true);
    const preferences = await fieldError(page, 'training_preferences');
    assert.equal(preferences.visible, false);
    assert.equal(preferences.groupInvalid, false);
    assert.ok(preferences.boxesInvalid.every((invalid) => !invalid));
    assert.equal(preferences.describedByError, false);
    assert.equal(preferences.message, '', 'a cleared message is not left to be read out');
    assert.deepEqual(storedProfile(ada), before, 'nothing was stored');
    await inspectState(page, 'error-empty-field');
  });

  test('a save from a stale page changes nothing and shows the latest profile', async () => {
    await page.reload();
    await page.waitForSelector('form[data-ready="true"]');
    const otherTab = await openPage(userToken(ada));
    await choose(otherTab, 'goals', ['build_muscle']);
    assert.equal((await save(otherTab)).status(), 200);
    await otherTab.context().close();

    await choose(page, 'goals', ['lose_fat']);
    const response = await save(page);
    assert.equal(response.status(), 200);
    assert.match(await page.textContent('#status'), /changed elsewhere/);
    assert.equal(await page.getAttribute('#status', 'data-kind'), 'error');
    assert.deepEqual(await checkedValues(page, 'goals'), ['build_muscle']);
    assert.deepEqual(storedProfile(ada).goals, ['build_muscle']);
    await inspectState(page, 'stale-save');
  });

  test("another user never sees this user's profile", async () => {
    const adaBefore = storedProfile(ada);
    const grace = createUser();
    const firstCall = apiRequestUrls.length;
    const gracePage = await openPage(userToken(grace));
    assert.match(await gracePage.textContent('#profile-state'), /no movement profile yet/);
    for (const field of FIELDS) {
      assert.deepEqual(await checkedValues(gracePage, field), []);
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

    await choose(gracePage, 'training_preferences', ['crossfit']);
    await choose(gracePage, 'goals', ['lose_fat']);
    assert.equal((await save(gracePage)).status(), 201);
    assert.deepEqual(storedProfile(grace).training_preferences, ['crossfit']);
    assert.deepEqual(storedProfile(ada), adaBefore, "Grace's save left Ada's profile alone");
    await gracePage.context().close();

    await page.reload();
    await page.waitForSelector('form[data-ready="true"]');
    assert.deepEqual(await checkedValues(page, 'training_preferences'), ['running', 'yoga']);
    assert.deepEqual(await checkedValues(page, 'goals'), ['build_muscle']);
  });

  test('Sign out forgets the token: the page asks to sign in, also after a reload', async () => {
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in:not([hidden])');
    assert.equal(await page.textContent('#sign-in-reason'), 'You signed out.');
    assert.equal(await page.isVisible('#profile-form'), false);
    assert.equal(await page.textContent('#session'), 'Not signed in');
    assert.equal(
      await page.evaluate(() => document.activeElement?.id),
      'sign-in-title',
      'focus moves to the sign-in heading, not lost with the hidden button',
    );
    assert.equal(await page.evaluate((key) => sessionStorage.getItem(key), STORAGE_KEY), null);
    await inspectState(page, 'signed-out');

    const calls = apiRequestUrls.length;
    await page.reload();
    await page.waitForSelector('#sign-in:not([hidden])');
    assert.match(await page.textContent('#sign-in-reason'), /not signed in/);
    assert.equal(apiRequestUrls.length, calls, 'no call to the API once signed out');
    await page.context().close();
  });

  test('an expired token is turned away before any call to the API', async () => {
    const calls = apiRequestUrls.length;
    const expired = await openPage(userToken(ada, { expiresIn: -120 }));
    assert.match(await expired.textContent('#sign-in-reason'), /expired/);
    assert.equal(await expired.isVisible('#profile-form'), false);
    assert.equal(await expired.isVisible('#loading'), false);
    assert.equal(apiRequestUrls.length, calls);
    await inspectState(expired, 'expired-token');
    await expired.context().close();
  });

  test('a page opened without a token asks the user to sign in', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const bare = await context.newPage();
    bare.on('pageerror', (error) => pageErrors.push(error.message));
    await bare.goto(web.url);
    await bare.waitForSelector('#sign-in:not([hidden])');
    assert.match(await bare.textContent('#sign-in-reason'), /not signed in/);
    assert.equal(await bare.isVisible('#loading'), false);
    await inspectState(bare, 'no-token');
    await context.close();
  });
});

describe('with the keyboard alone', () => {
  const kay = createUser();
  /** @type {import('playwright-core').Page} */
  let page;
  /** Every control Tab reached, in order, and how many pixels its focus ring changed. */
  const visited = [];

  /** The control that has focus: its id and where it is on screen (null for none). */
  async function focused() {
    const handle = await page.evaluateHandle(() =>
      document.activeElement === document.body ? null : document.activeElement,
    );
    const element = handle.asElement();
    if (!element) return null;
    const id = await element.evaluate((node) => node.id);
    const box = await element.boundingBox();
    return { id, box };
  }

  /**
   * Presses Tab until `id` has focus. Each control Tab leaves is photographed focused and again
   * unfocused: its focus must be visible, i.e. at least a ring's worth of its pixels change.
   */
  async function tabTo(id, limit = 40) {
    for (let presses = 0; presses <= limit; presses++) {
      const current = await focused();
      if (current?.id === id) return;
      const margin = 6;
      const clip = current?.box && {
        x: Math.max(0, current.box.x - margin),
        y: Math.max(0, current.box.y - margin),
        width: current.box.width + 2 * margin,
        height: current.box.height + 2 * margin,
      };
      const withFocus = clip && (await page.screenshot({ clip }));
      await page.keyboard.press('Tab');
      if (clip && withFocus) {
        const changed = changedPixels(withFocus, await page.screenshot({ clip }));
        const ring = 2 * (current.box.width + current.box.height);
        assert.ok(changed >= ring, `focus on #${current.id} not visible (${changed} px changed)`);
        visited.push({ id: current.id, changed });
      }
    }
    assert.fail(`Tab never reached #${id}`);
  }

  async function press(key) {
    await page.keyboard.press(key);
  }

  test('Tab, Space and Enter create a profile', async () => {
    page = await openPage(userToken(kay));
    await tabTo('choice-training_preferences-running');
    await press('Space');
    await tabTo('choice-training_preferences-yoga');
    await press('Space');
    await tabTo('choice-goals-improve_endurance');
    await press('Space');
    await page.screenshot({ path: path.join(ARTIFACTS, 'frontend-keyboard-checkbox-1280.png') });
    await tabTo('save');
    await page.screenshot({ path: path.join(ARTIFACTS, 'frontend-keyboard-save-1280.png') });
    const response = await save(page, () => press('Enter'));
    assert.equal(response.status(), 201);
    assert.equal(await page.textContent('#status'), 'Profile created.');
    const stored = storedProfile(kay);
    assert.deepEqual(stored.training_preferences, ['running', 'yoga']);
    assert.deepEqual(stored.goals, ['improve_endurance']);
    assert.equal((await focused())?.id, 'save', 'focus stays on Save while and after saving');
  });

  test('the tab order is the reading order, and every control shows its focus', async () => {
    const order = Object.entries(allowedValues()).flatMap(([field, values]) =>
      values.map((value) => `choice-${field}-${value}`),
    );
    // The first pass went from the top of the page to Save, leaving each checkbox once, field
    // after field in the catalogue's order.
    assert.deepEqual(
      visited.map(({ id }) => id),
      order,
    );
  });

  test('Tab, Space and Enter fix an error and update the profile', async () => {
    const before = storedProfile(kay);
    // From Save onwards: past Sign out, out of the page and round to the top again.
    await tabTo('choice-goals-improve_endurance', 60);
    assert.ok(
      visited.some(({ id }) => id === 'sign-out'),
      'Sign out was passed, focus shown',
    );
    await press('Space');
    await tabTo('save');
    const refused = await save(page, () => press('Enter'));
    assert.equal(refused.status(), 400);
    assert.equal((await fieldError(page, 'goals')).visible, true);
    // Focus went to the field to fix: its first checkbox.
    assert.equal((await focused())?.id, 'choice-goals-build_muscle');
    await press('Space');
    await tabTo('save');
    const response = await save(page, () => press('Enter'));
    assert.equal(response.status(), 200);
    assert.equal(await page.textContent('#status'), 'Profile saved.');
    assert.equal((await fieldError(page, 'goals')).visible, false);
    const stored = storedProfile(kay);
    assert.deepEqual(stored.goals, ['build_muscle']);
    assert.deepEqual(stored.training_preferences, ['running', 'yoga']);
    assert.ok(new Date(stored.updated_at) > new Date(before.updated_at));
    findings['keyboard focus rings (px changed)'] = Object.fromEntries(
      visited.map(({ id, changed }) => [id, changed]),
    );
    await page.context().close();
  });
});

describe('on a phone (375×667, touch)', () => {
  test('a new user creates and changes a profile by tapping, nothing scrolls sideways', async () => {
    const lin = createUser();
    const page = await openPage(userToken(lin), {
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 1,
    });
    await inspectState(page, 'phone-no-profile', { widths: [PHONE] });
    await choose(page, 'training_preferences', ['strength_training', 'mixed'], { tap: true });
    await choose(page, 'goals', ['build_muscle', 'general_health'], { tap: true });
    const created = await save(page, () => page.tap('#save'));
    assert.equal(created.status(), 201);
    assert.deepEqual(storedProfile(lin).training_preferences, ['strength_training', 'mixed']);
    await choose(page, 'goals', ['general_health'], { tap: true });
    const updated = await save(page, () => page.tap('#save'));
    assert.equal(updated.status(), 200);
    assert.deepEqual(storedProfile(lin).goals, ['general_health']);
    await inspectState(page, 'phone-profile', { widths: [PHONE] });
    await page.context().close();
  });
});

describe('a catalogue change while the page is served: a reload shows it, nothing rebuilt', () => {
  // Names of this test's own, so that a catalogue another suite left on the stack is not touched.
  const FIELD = 'e2e_injuries';
  const GOAL = 'e2e_mobility';
  const mia = createUser();
  /** @type {import('playwright-core').Page} */
  let page;
  /** The page's script before the change: the same bytes must serve the changed catalogue. */
  let scriptBefore = '';

  const exists = (sql) => psql(`select exists (${sql})`) === 't';
  /**
   * Undoes this test's change, also what an interrupted run left: the admin's own way, profiles
   * holding the field or the value losing them.
   */
  function undo() {
    if (exists(`select from movement_profiles_internal.catalogue_fields where name = '${FIELD}'`)) {
      admin('movement_profile_remove_field', { field: FIELD, profiles: 'remove' });
    }
    const goal = `select from movement_profiles_internal.catalogue_values
      where field = 'goals' and value = '${GOAL}' and retired_at is null`;
    if (exists(goal)) {
      admin('movement_profile_retire_value', { field: 'goals', value: GOAL, profiles: 'remove' });
    }
    known = catalogue();
  }
  before(undo);
  after(undo);

  const script = async () => (await fetch(`${web.url}/app.js`)).text();
  /** @param {import('playwright-core').Page} shown */
  async function reload(shown) {
    await shown.reload();
    await shown.waitForSelector('form[data-ready="true"]');
  }

  test('before the change, the page shows the catalogue as it is', async () => {
    scriptBefore = await script();
    page = await openPage(userToken(mia));
    assert.equal((await shownFields(page)).includes(FIELD), false);
    assert.equal(await page.locator(`#choice-goals-${GOAL}`).count(), 0);
    await choose(page, 'training_preferences', ['running']);
    await choose(page, 'goals', ['build_muscle']);
    assert.equal((await save(page)).status(), 201);
    assert.deepEqual(storedProfile(mia).custom_fields, {});
  });

  test('an admin adds a field with its values, and a value to goals, each in one SQL call', () => {
    const added = admin('movement_profile_add_field', {
      field: FIELD,
      label: 'Injuries',
      description: 'Anything to train around.',
      required: false,
      allowed_values: ['knee', 'shoulder', 'lower_back'],
    });
    assert.deepEqual(added, {
      name: FIELD,
      label: 'Injuries',
      description: 'Anything to train around.',
      required: false,
      built_in: false,
      values: [
        { value: 'knee', label: 'Knee', description: '' },
        { value: 'shoulder', label: 'Shoulder', description: '' },
        { value: 'lower_back', label: 'Lower back', description: '' },
      ],
    });
    admin('movement_profile_add_value', { field: 'goals', value: GOAL, label: 'Mobility' });
    known = catalogue();
  });

  test('after a reload the new field is a fieldset, with its labels; goals has the new value', async () => {
    await reload(page);
    assert.equal(await script(), scriptBefore, 'the same script, not rebuilt for the change');
    const shown = await shownFields(page);
    assert.deepEqual(
      shown,
      known.fields.map(({ name }) => name),
    );
    assert.equal(shown.at(-1), FIELD, 'a new field comes last');
    const group = page.getByRole('group', { name: 'Injuries', exact: true });
    assert.equal(await group.count(), 1);
    assert.equal(await page.textContent(`#field-${FIELD} > legend`), 'Injuries');
    assert.equal(await page.textContent(`#help-${FIELD}`), 'Anything to train around. Optional.');
    for (const label of ['Knee', 'Shoulder', 'Lower back']) {
      const box = group.getByRole('checkbox', { name: label, exact: true });
      assert.equal(await box.count(), 1, label);
      assert.equal(await box.isChecked(), false, label);
    }
    const goals = await page.$$eval('#field-goals input', (boxes) => boxes.map((box) => box.value));
    assert.equal(goals.at(-1), GOAL);
    assert.equal(
      await page
        .getByRole('group', { name: legendOf('goals'), exact: true })
        .getByRole('checkbox', { name: 'Mobility', exact: true })
        .count(),
      1,
    );
    // What was saved before the change is still checked.
    assert.deepEqual(await checkedValues(page, 'training_preferences'), ['running']);
    assert.deepEqual(await checkedValues(page, 'goals'), ['build_muscle']);
    await inspectState(page, 'catalogue-new-field');
  });

  test('values chosen in the new field are stored in custom_fields, the new goal in goals', async () => {
    await choose(page, FIELD, ['knee', 'lower_back']);
    await choose(page, 'goals', ['build_muscle', GOAL]);
    const response = await save(page);
    assert.equal(response.status(), 200);
    assert.equal(await page.textContent('#status'), 'Profile saved.');
    const stored = storedProfile(mia);
    assert.deepEqual(stored.custom_fields, { [FIELD]: ['knee', 'lower_back'] });
    assert.deepEqual(stored.goals, ['build_muscle', GOAL]);
    assert.deepEqual(stored.training_preferences, ['running']);
    // Filtered by the new field through the API, as a frontend would (custom_fields=cs.{...}).
    const found = await page.evaluate(
      async ({ apiUrl, anonKey, token, field }) => {
        const filter = encodeURIComponent(JSON.stringify({ [field]: ['knee'] }));
        const response = await fetch(
          `${apiUrl}/rest/v1/movement_profiles?select=user_id&custom_fields=cs.${filter}`,
          { headers: { apikey: anonKey, Authorization: `Bearer ${token}` } },
        );
        return response.json();
      },
      { apiUrl: stack.apiUrl, anonKey: stack.anonKey, token: userToken(mia), field: FIELD },
    );
    assert.deepEqual(found, [{ user_id: mia }]);
    await reload(page);
    assert.deepEqual(await checkedValues(page, FIELD), ['knee', 'lower_back']);
    assert.deepEqual(await checkedValues(page, 'goals'), ['build_muscle', GOAL]);
  });

  test('a value the new field does not allow is refused in that field, with the allowed values', async () => {
    const before = storedProfile(mia);
    await page.$eval(
      `#field-${FIELD} .choices`,
      (choices, field) => {
        const box = Object.assign(document.createElement('input'), {
          type: 'checkbox',
          name: field,
          value: 'elbow',
          id: `choice-${field}-elbow`,
        });
        const text = Object.assign(document.createElement('span'), {
          className: 'choice-label',
          textContent: 'Elbow',
        });
        const choice = Object.assign(document.createElement('label'), { className: 'choice' });
        choice.htmlFor = box.id;
        choice.append(box, text);
        choices.append(choice);
      },
      FIELD,
    );
    await choose(page, FIELD, ['knee', 'elbow']);
    const response = await save(page);
    assert.equal(response.status(), 400);
    const body = await response.json();
    assert.equal(body.code, '23514');
    assert.equal(body.hint, FIELD, 'hint names the field, not the custom_fields column');
    const error = await fieldError(page, FIELD);
    assert.equal(error.visible, true);
    assert.equal(error.message, `${FIELD} contains an invalid value: "elbow"`);
    assert.equal(error.details, 'Allowed values: knee, shoulder, lower_back');
    assert.equal(error.groupInvalid, true);
    assert.equal(error.describedByError, true);
    assert.equal(await page.textContent('#status'), `Not saved: ${body.message} (see Injuries).`);
    assert.equal(
      await page.evaluate(() => document.activeElement?.closest('fieldset')?.id),
      `field-${FIELD}`,
    );
    assert.equal((await fieldError(page, 'goals')).visible, false);
    assert.deepEqual(storedProfile(mia), before, 'nothing was stored');
    await inspectState(page, 'catalogue-error');
  });

  test('a relabelled value shows its new label after a reload', async () => {
    admin('movement_profile_relabel', {
      field: FIELD,
      value: 'lower_back',
      label: 'Lower back or hips',
    });
    known = catalogue();
    await reload(page);
    const group = page.getByRole('group', { name: 'Injuries', exact: true });
    assert.equal(await group.getByRole('checkbox', { name: 'Lower back', exact: true }).count(), 0);
    const box = group.getByRole('checkbox', { name: 'Lower back or hips', exact: true });
    assert.equal(await box.isChecked(), true);
  });

  test('clearing an optional field removes it from custom_fields', async () => {
    await choose(page, FIELD, []);
    assert.equal((await save(page)).status(), 200);
    assert.deepEqual(storedProfile(mia).custom_fields, {});
    await choose(page, FIELD, ['shoulder']);
    assert.equal((await save(page)).status(), 200);
    assert.deepEqual(storedProfile(mia).custom_fields, { [FIELD]: ['shoulder'] });
  });

  test('undone (field removed, value retired, profiles cleared): a page loaded before is told to reload, and after a reload both are gone', async () => {
    // A new user's page, loaded while the field exists, fills it in but saves only after the undo.
    const noor = createUser();
    const stale = await openPage(userToken(noor));
    await choose(stale, 'training_preferences', ['yoga']);
    await choose(stale, 'goals', ['rehab']);
    await choose(stale, FIELD, ['knee']);

    const removed = admin('movement_profile_remove_field', { field: FIELD, profiles: 'remove' });
    assert.deepEqual(removed, { field: FIELD, profiles_changed: 1 });
    const retired = admin('movement_profile_retire_value', {
      field: 'goals',
      value: GOAL,
      profiles: 'remove',
    });
    assert.deepEqual(retired, { field: 'goals', value: GOAL, profiles_changed: 1 });
    known = catalogue();

    const refused = await save(stale);
    assert.equal(refused.status(), 400);
    const body = await refused.json();
    assert.equal(body.hint, 'custom_fields');
    assert.equal(body.message, `custom_fields contains an unknown field: "${FIELD}"`);
    assert.equal(
      await stale.textContent('#status'),
      `Not saved: ${body.message} (400 23514). The fields have changed: reload the page.`,
    );
    assert.equal(storedProfile(noor), null);
    await reload(stale);
    assert.equal((await shownFields(stale)).includes(FIELD), false);
    await choose(stale, 'training_preferences', ['yoga']);
    await choose(stale, 'goals', ['rehab']);
    assert.equal((await save(stale)).status(), 201);
    assert.deepEqual(storedProfile(noor).custom_fields, {});
    await stale.context().close();

    await reload(page);
    assert.deepEqual(
      await shownFields(page),
      known.fields.map(({ name }) => name),
    );
    assert.equal(await page.locator(`#choice-goals-${GOAL}`).count(), 0);
    assert.deepEqual(await checkedValues(page, 'goals'), ['build_muscle']);
    const stored = storedProfile(mia);
    assert.deepEqual(stored.custom_fields, {});
    assert.deepEqual(stored.goals, ['build_muscle']);
    await page.context().close();
  });
});

describe('CORS, across all the pages above', () => {
  test('every cross-origin call was preflighted and allowed for the page origin', async () => {
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

  test('a preflight without an apikey (as browsers send it) gets 204, not 401', async () => {
    const origin = new URL(web.url).origin;
    const url = `${stack.apiUrl}/rest/v1/movement_profiles?user_id=eq.${createUser()}`;
    const response = await fetch(url, {
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

  test('no page threw an uncaught error', () => {
    assert.deepEqual(pageErrors, []);
  });
});
