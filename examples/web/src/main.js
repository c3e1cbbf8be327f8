// @ts-check
// The page: the signed-in user's profile as two multi-selects built from the database's allowed
// values. The page does not validate: it sends what is selected and shows the database's own
// message next to the field its `hint` names, so the rules live in one place (the migrations).

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
  session: element('session', HTMLElement),
  signIn: element('sign-in', HTMLElement),
  signInReason: element('sign-in-reason', HTMLElement),
  form: element('profile-form', HTMLFormElement),
  profileState: element('profile-state', HTMLElement),
  save: element('save', HTMLButtonElement),
  signOut: element('sign-out', HTMLButtonElement),
  status: element('status', HTMLElement),
  /** @param {Field} field */
  select: (field) => element(field, HTMLSelectElement),
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

function clearFieldErrors() {
  for (const field of FIELDS) {
    page.fieldError(field).hidden = true;
    page.select(field).removeAttribute('aria-invalid');
  }
}

/**
 * Puts the database's message next to the field it names; anything else goes to the status line.
 * @param {ApiError} error
 */
function showError(error) {
  const field = FIELDS.find((name) => name === error.hint);
  if (!field) {
    const status = error.status ? ` (${error.status}${error.code ? ` ${error.code}` : ''})` : '';
    showStatus(`Not saved: ${error.message}${status}`, 'error');
    return;
  }
  const box = page.fieldError(field);
  box.querySelector('.field-error-message')?.replaceChildren(error.message);
  box.querySelector('.field-error-details')?.replaceChildren(error.details);
  box.hidden = false;
  page.select(field).setAttribute('aria-invalid', 'true');
  showStatus('Not saved: see the message next to the field.', 'error');
}

/** @param {MovementProfileOptions} options */
function buildSelects(options) {
  for (const field of FIELDS) {
    page
      .select(field)
      .replaceChildren(...options[field].map((value) => new Option(label(value), value)));
    page.select(field).size = options[field].length;
  }
}

/** @param {MovementProfile | null} profile */
function showProfile(profile) {
  for (const field of FIELDS) {
    /** @type {readonly string[]} */
    const chosen = profile ? profile[field] : [];
    for (const option of page.select(field).options) {
      option.selected = chosen.includes(option.value);
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
 * The values chosen in one multi-select, sent as selected: the page does not check them against
 * the options, the database does (a tampered select must be refused there, and is).
 * @template {Field} F
 * @param {F} field
 * @returns {Required<MovementProfileUpdate>[F]}
 */
function chosen(field) {
  return /** @type {any} */ ([...page.select(field).selectedOptions].map((option) => option.value));
}

/** @param {string} reason */
function showSignIn(reason) {
  page.session.textContent = 'Not signed in';
  page.signInReason.textContent = reason;
  page.signIn.hidden = false;
  page.form.hidden = true;
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
  buildSelects(options.data);
  /** @type {MovementProfile | null} */
  let profile = loaded.data;
  showProfile(profile);
  page.form.hidden = false;
  page.form.dataset.ready = 'true';

  page.signOut.addEventListener('click', () => {
    forgetSession();
    showSignIn('You signed out.');
  });

  page.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors();
    showStatus('Saving…');
    page.save.disabled = true;
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
      page.save.disabled = false;
    }
  });
}

start().catch((error) => {
  showSignIn(`Something went wrong: ${error instanceof Error ? error.message : String(error)}`);
});
