// @ts-check
// The page: the signed-in user's profile as one group of checkboxes per field of the catalogue
// (rpc movement_profile_catalogue: the fields, their labels and allowed values, in display order).
// Nothing here names a field or a value: an admin's catalogue change shows on the next load, with
// no change to the page and no rebuild. The page does not validate either: it sends what is
// checked and shows the database's own message in the field its `hint` names, so the rules live
// in one place (the database).

import { forgetSession, readSession } from './session.js';
import {
  createProfile,
  createProfilesClient,
  fetchCatalogue,
  fetchProfile,
  updateProfile,
} from './profile-api.js';

/** @typedef {import('./database.types').MovementProfile} MovementProfile */
/** @typedef {import('./database.types').MovementProfileBuiltInField} BuiltInField */
/** @typedef {import('./database.types').MovementProfileCatalogue} MovementProfileCatalogue */
/** @typedef {import('./database.types').MovementProfileCatalogueField} CatalogueField */
/** @typedef {import('./database.types').MovementProfileCustomFields} CustomFields */
/** @typedef {import('./database.types').MovementProfileInsert} MovementProfileInsert */
/** @typedef {import('./profile-api').ApiError} ApiError */

/**
 * A field as the page shows it. Element ids carry a prefix of their own (`field-`, `help-`,
 * `error-`, `choice-`, `about-`) and a `-` between field and value: a field's name is
 * `[a-z][a-z0-9_]*`, so no field (say, one named `status`) can take the id of another element.
 * @typedef {object} FormField
 * @property {CatalogueField} entry  The catalogue's entry.
 * @property {HTMLFieldSetElement} group
 * @property {HTMLElement} help
 * @property {HTMLElement} error
 * @property {() => HTMLInputElement[]} boxes  Its checkboxes as the page holds them now (one per
 *   allowed value, in the catalogue's order, unless the page was tampered with).
 */

/**
 * Set at build time (esbuild `define`, see examples/web/serve.mjs): the stack the page was
 * served for. The URL fragment may override both.
 */
const BUILT_FOR = {
  apiUrl: import.meta.env.SUPABASE_URL,
  anonKey: import.meta.env.SUPABASE_ANON_KEY,
};

/** The column that holds every field that is not built in: `{field: [value, ...]}`. */
const CUSTOM_FIELDS = 'custom_fields';

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function element(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`#${id} is missing`);
  return found;
}

const page = {
  main: element('main', HTMLElement),
  session: element('session', HTMLElement),
  loading: element('loading', HTMLElement),
  signIn: element('sign-in', HTMLElement),
  signInReason: element('sign-in-reason', HTMLElement),
  signInTitle: element('sign-in-title', HTMLElement),
  form: element('profile-form', HTMLFormElement),
  profileState: element('profile-state', HTMLElement),
  fields: element('fields', HTMLElement),
  save: element('save', HTMLButtonElement),
  signOut: element('sign-out', HTMLButtonElement),
  status: element('status', HTMLElement),
};

/** The form's fields, in the catalogue's order, by name. @type {Map<string, FormField>} */
const form = new Map();

/**
 * @param {string} tag
 * @param {Record<string, string>} attributes
 * @param {(Node | string)[]} children
 */
function make(tag, attributes = {}, children = []) {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  made.append(...children);
  return made;
}

/** @param {Date} date */
function formatTime(date) {
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/**
 * @param {string} text
 * @param {'ok' | 'error' | 'info'} kind
 */
function showStatus(text, kind = 'info') {
  page.status.textContent = text;
  page.status.dataset.kind = kind;
}

/**
 * One field of the catalogue as a fieldset: its label as the legend, its description and whether
 * it is required as the help text, a hidden error box, and a checkbox per allowed value labelled
 * with the value's label (its description, if any, describes the checkbox).
 * @param {CatalogueField} entry
 * @returns {FormField}
 */
function buildField(entry) {
  const { name } = entry;
  const requirement = entry.required ? 'Required: choose at least one.' : 'Optional.';
  const help = make('p', { class: 'help', id: `help-${name}` }, [
    ...(entry.description ? [`${entry.description} `] : []),
    make('span', { class: 'requirement' }, [requirement]),
  ]);
  const error = make('p', { class: 'field-error', id: `error-${name}`, hidden: '' }, [
    make('span', { class: 'field-error-message' }),
    make('span', { class: 'field-error-details' }),
  ]);
  const choices = make(
    'div',
    { class: 'choices' },
    entry.values.map(({ value, label, description }) => {
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.name = name;
      box.value = value;
      box.id = `choice-${name}-${value}`;
      const text = make('span', { class: 'choice-label' }, [label]);
      // The description is read as the checkbox's description, not as part of its name.
      if (description) {
        const about = make(
          'span',
          { class: 'choice-description', id: `about-${name}-${value}`, 'aria-hidden': 'true' },
          [description],
        );
        text.append(about);
        box.setAttribute('aria-describedby', about.id);
      }
      return make('label', { class: 'choice', for: box.id }, [box, text]);
    }),
  );
  const group = /** @type {HTMLFieldSetElement} */ (
    make(
      'fieldset',
      {
        id: `field-${name}`,
        class: 'field',
        'aria-describedby': help.id,
        'data-field': name,
        'data-required': String(entry.required),
        'data-built-in': String(entry.built_in),
      },
      [make('legend', {}, [entry.label]), help, error, choices],
    )
  );
  const boxes = () =>
    [...group.querySelectorAll('input[type="checkbox"]')].filter(
      (box) => box instanceof HTMLInputElement,
    );
  return { entry, group, help, error, boxes };
}

/** The form, built anew from the catalogue. @param {MovementProfileCatalogue} catalogue */
function buildForm(catalogue) {
  form.clear();
  for (const entry of catalogue.fields) form.set(entry.name, buildField(entry));
  page.fields.replaceChildren(...[...form.values()].map(({ group }) => group));
}

/**
 * Marks a field invalid or valid for assistive technology too: `aria-invalid` on the fieldset and
 * its checkboxes, and the error joins the fieldset's description only while it is shown (a hidden
 * element named by aria-describedby is still read out).
 * @param {FormField} field
 * @param {ApiError | null} error
 */
function setFieldError(field, error) {
  const { group, help, error: box } = field;
  box.querySelector('.field-error-message')?.replaceChildren(error?.message ?? '');
  box.querySelector('.field-error-details')?.replaceChildren(error?.details ?? '');
  box.hidden = !error;
  group.setAttribute('aria-describedby', [help.id, ...(error ? [box.id] : [])].join(' '));
  for (const target of [group, ...field.boxes()]) {
    if (error) target.setAttribute('aria-invalid', 'true');
    else target.removeAttribute('aria-invalid');
  }
}

function clearFieldErrors() {
  for (const field of form.values()) setFieldError(field, null);
}

/**
 * Puts the database's message in the field its `hint` names and moves focus there; anything else
 * goes to the status line. Either way the status line (a live region) announces that nothing was
 * saved. A `custom_fields` hint means the page's catalogue is out of date (a field it shows was
 * removed meanwhile): a reload brings the current one.
 * @param {ApiError} error
 */
function showError(error) {
  const field = form.get(error.hint);
  if (!field) {
    const status = error.status ? ` (${error.status}${error.code ? ` ${error.code}` : ''})` : '';
    const reload = error.hint === CUSTOM_FIELDS ? ' The fields have changed: reload the page.' : '';
    showStatus(`Not saved: ${error.message}${status}.${reload}`, 'error');
    return;
  }
  setFieldError(field, error);
  showStatus(`Not saved: ${error.message} (see ${field.entry.label}).`, 'error');
  field.boxes()[0]?.focus();
}

/**
 * The values the profile holds for a field: a built-in field's column, or its entry in
 * custom_fields.
 * @param {MovementProfile | null} profile
 * @param {CatalogueField} entry
 * @returns {readonly string[]}
 */
function held(profile, entry) {
  if (!profile) return [];
  if (entry.built_in) return profile[/** @type {BuiltInField} */ (entry.name)] ?? [];
  return profile.custom_fields?.[entry.name] ?? [];
}

/** @param {MovementProfile | null} profile */
function showProfile(profile) {
  for (const { entry, boxes } of form.values()) {
    const chosen = held(profile, entry);
    for (const box of boxes()) box.checked = chosen.includes(box.value);
  }
  page.profileState.textContent = profile
    ? `Created ${formatTime(new Date(profile.created_at))} · last saved ${formatTime(
        new Date(profile.updated_at),
      )}`
    : 'You have no movement profile yet: choose below and save to create it.';
  page.save.textContent = profile ? 'Save' : 'Create profile';
}

/**
 * What a save sends: each built-in field to its column, every other field into custom_fields, all
 * as checked: the page does not check them against the catalogue, the database does (a tampered
 * checkbox must be refused there, and is). An optional field with nothing checked is left out of
 * custom_fields (absent means "not answered"); a required one is sent empty, so the database says
 * it needs a value, in that field. Entries the page does not show (a field added after the page
 * loaded) are kept as the profile held them.
 * @param {MovementProfile | null} profile
 * @returns {MovementProfileInsert}
 */
function choice(profile) {
  /** @type {CustomFields} */
  const custom = { ...(profile?.custom_fields ?? {}) };
  /** @type {Record<string, string[]>} */
  const builtIn = {};
  for (const { entry, boxes } of form.values()) {
    const values = boxes()
      .filter((box) => box.checked)
      .map((box) => box.value);
    if (entry.built_in) builtIn[entry.name] = values;
    else if (values.length || entry.required) custom[entry.name] = values;
    else delete custom[entry.name];
  }
  return /** @type {MovementProfileInsert} */ ({ ...builtIn, [CUSTOM_FIELDS]: custom });
}

/** @param {string} reason */
function showSignIn(reason) {
  page.session.textContent = 'Not signed in';
  page.signInReason.textContent = reason;
  page.signIn.hidden = false;
  page.form.hidden = true;
  page.loading.hidden = true;
  page.main.setAttribute('aria-busy', 'false');
}

async function start() {
  const found = readSession(BUILT_FOR);
  if ('problem' in found) {
    showSignIn(found.problem);
    return;
  }
  const { session } = found;
  page.session.textContent = `Signed in as user ${session.userId}`;
  const supabase = createProfilesClient(session);

  const [catalogue, loaded] = await Promise.all([
    fetchCatalogue(supabase),
    fetchProfile(supabase, session.userId),
  ]);
  if (catalogue.error || loaded.error) {
    const error = /** @type {ApiError} */ (catalogue.error ?? loaded.error);
    showSignIn(`The API refused: ${error.message} (${error.status}).`);
    return;
  }
  buildForm(catalogue.data);
  /** @type {MovementProfile | null} */
  let profile = loaded.data;
  showProfile(profile);
  page.form.hidden = false;
  page.loading.hidden = true;
  page.main.setAttribute('aria-busy', 'false');
  page.form.dataset.ready = 'true';

  page.signOut.addEventListener('click', () => {
    forgetSession();
    showSignIn('You signed out.');
    // The button just pressed is gone: put focus where the page now starts.
    page.signInTitle.focus();
  });

  let saving = false;
  page.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (saving) return;
    saving = true;
    clearFieldErrors();
    showStatus('Saving…');
    // aria-disabled, not disabled: a disabled button would throw keyboard focus back to the page.
    page.save.setAttribute('aria-disabled', 'true');
    try {
      const chosen = choice(profile);
      const saved = profile
        ? await updateProfile(supabase, profile, chosen)
        : await createProfile(supabase, chosen);
      if (saved.error?.code === '23505') {
        // Created meanwhile in another tab: show that one rather than fail on a duplicate.
        profile = (await fetchProfile(supabase, session.userId)).data;
        showProfile(profile);
        showStatus('A profile was created elsewhere meanwhile; it is shown now.', 'error');
      } else if (saved.error) {
        showError(saved.error);
      } else if (!saved.data) {
        // The row changed since it was loaded (another tab or device): nothing was written.
        profile = (await fetchProfile(supabase, session.userId)).data;
        showProfile(profile);
        showStatus(
          'The profile changed elsewhere; the latest is shown. Nothing was saved.',
          'error',
        );
      } else {
        const created = !profile;
        profile = saved.data;
        showProfile(profile);
        showStatus(created ? 'Profile created.' : 'Profile saved.', 'ok');
      }
    } finally {
      saving = false;
      page.save.removeAttribute('aria-disabled');
    }
  });
}

start().catch((error) => {
  showSignIn(`Something went wrong: ${error instanceof Error ? error.message : String(error)}`);
});
