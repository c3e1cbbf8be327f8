// @ts-check
// The page: the signed-in user's profile as two groups of checkboxes (one per allowed value, as
// the database lists them). The page does not validate: it sends what is checked and shows the
// database's own message in the field its `hint` names, so the rules live in one place (the
// migrations).

import { forgetSession, readSession } from './session.js';
import {
  createProfile,
  createProfilesClient,
  fetchOptions,
  fetchProfile,
  updateProfile,
} from './profile-api.js';

/** @typedef {import('./database.types').MovementProfile} MovementProfile */
/** @typedef {import('./database.types').MovementProfileOptions} MovementProfileOptions */
/** @typedef {import('./database.types').MovementProfileUpdate} MovementProfileUpdate */
/** @typedef {import('./profile-api').ApiError} ApiError */
/** @typedef {import('./profile-api').MovementProfilesClient} MovementProfilesClient */

/** The form's fields: the profile's columns, as `hint` names them. */
const FIELDS = /** @type {const} */ (['training_preferences', 'goals']);
/** @typedef {typeof FIELDS[number]} Field */

/**
 * Set at build time (esbuild `define`, see examples/web/serve.mjs): the stack the page was
 * served for. The URL fragment may override both.
 */
const BUILT_FOR = {
  apiUrl: import.meta.env.SUPABASE_URL,
  anonKey: import.meta.env.SUPABASE_ANON_KEY,
};

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
  save: element('save', HTMLButtonElement),
  signOut: element('sign-out', HTMLButtonElement),
  status: element('status', HTMLElement),
  /** The field's fieldset. @param {Field} field */
  group: (field) => element(field, HTMLFieldSetElement),
  /** The field's checkboxes, in the order the database lists the values. @param {Field} field */
  boxes: (field) => [
    ...element(field, HTMLFieldSetElement).querySelectorAll('input[type="checkbox"]'),
  ].filter((box) => box instanceof HTMLInputElement),
  /** @param {Field} field */
  fieldError: (field) => element(`${field}-error`, HTMLElement),
};

/** `strength_training` -> `Strength training`. */
function label(/** @type {string} */ value) {
  const words = value.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
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
 * Marks a field invalid or valid for assistive technology too: `aria-invalid` on the fieldset and
 * its checkboxes, and the error joins the fieldset's description only while it is shown (a hidden
 * element named by aria-describedby is still read out).
 * @param {Field} field
 * @param {ApiError | null} error
 */
function setFieldError(field, error) {
  const group = page.group(field);
  const box = page.fieldError(field);
  box.querySelector('.field-error-message')?.replaceChildren(error?.message ?? '');
  box.querySelector('.field-error-details')?.replaceChildren(error?.details ?? '');
  box.hidden = !error;
  const describedBy = [`${field}-help`, ...(error ? [box.id] : [])].join(' ');
  group.setAttribute('aria-describedby', describedBy);
  for (const target of [group, ...page.boxes(field)]) {
    if (error) target.setAttribute('aria-invalid', 'true');
    else target.removeAttribute('aria-invalid');
  }
}

function clearFieldErrors() {
  for (const field of FIELDS) setFieldError(field, null);
}

/**
 * Puts the database's message in the field it names and moves focus there; anything else goes to
 * the status line. Either way the status line (a live region) announces that nothing was saved.
 * @param {ApiError} error
 */
function showError(error) {
  const field = FIELDS.find((name) => name === error.hint);
  if (!field) {
    const status = error.status ? ` (${error.status}${error.code ? ` ${error.code}` : ''})` : '';
    showStatus(`Not saved: ${error.message}${status}`, 'error');
    return;
  }
  setFieldError(field, error);
  const legend = page.group(field).querySelector('legend')?.textContent?.trim() ?? field;
  showStatus(`Not saved: ${error.message} (see ${legend}).`, 'error');
  page.boxes(field)[0]?.focus();
}

/**
 * One checkbox per allowed value, labelled from the value itself: a value added in the database
 * appears here with no change to the page.
 * @param {MovementProfileOptions} options
 */
function buildChoices(options) {
  for (const field of FIELDS) {
    const choices = page.group(field).querySelector('.choices');
    if (!choices) throw new Error(`#${field} has no .choices`);
    choices.replaceChildren(
      ...options[field].map((value) => {
        const box = document.createElement('input');
        box.type = 'checkbox';
        box.name = field;
        box.value = value;
        box.id = `${field}-${value}`;
        const text = document.createElement('span');
        text.className = 'choice-label';
        text.textContent = label(value);
        const choice = document.createElement('label');
        choice.className = 'choice';
        choice.htmlFor = box.id;
        choice.append(box, text);
        return choice;
      }),
    );
  }
}

/** @param {MovementProfile | null} profile */
function showProfile(profile) {
  for (const field of FIELDS) {
    /** @type {readonly string[]} */
    const chosen = profile ? profile[field] : [];
    for (const box of page.boxes(field)) {
      box.checked = chosen.includes(box.value);
    }
  }
  page.profileState.textContent = profile
    ? `Created ${formatTime(new Date(profile.created_at))} · last saved ${formatTime(
        new Date(profile.updated_at),
      )}`
    : 'You have no movement profile yet: choose below and save to create it.';
  page.save.textContent = profile ? 'Save' : 'Create profile';
}

/**
 * The values checked in one field, sent as they are: the page does not check them against the
 * options, the database does (a tampered checkbox must be refused there, and is).
 * @template {Field} F
 * @param {F} field
 * @returns {Required<MovementProfileUpdate>[F]}
 */
function chosen(field) {
  const checked = page.boxes(field).filter((box) => box.checked);
  return /** @type {any} */ (checked.map((box) => box.value));
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

  const [options, loaded] = await Promise.all([
    fetchOptions(supabase),
    fetchProfile(supabase, session.userId),
  ]);
  if (options.error || loaded.error) {
    const error = /** @type {ApiError} */ (options.error ?? loaded.error);
    showSignIn(`The API refused: ${error.message} (${error.status}).`);
    return;
  }
  buildChoices(options.data);
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
      const choice = {
        training_preferences: chosen('training_preferences'),
        goals: chosen('goals'),
      };
      const saved = profile
        ? await updateProfile(supabase, profile, choice)
        : await createProfile(supabase, choice);
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
