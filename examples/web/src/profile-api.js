// @ts-check
// Every call the page makes, through supabase-js and nothing else: this is the code a frontend
// copies. The database validates and authorises; errors come back as PostgREST's JSON, whose
// `hint` names the field that failed (see supabase/migrations).

import { createClient } from '@supabase/supabase-js';

/** @typedef {import('./database.types').Database} Database */
/** @typedef {import('./database.types').MovementProfile} MovementProfile */
/** @typedef {import('./database.types').MovementProfileCatalogue} MovementProfileCatalogue */
/** @typedef {import('./database.types').MovementProfileInsert} MovementProfileInsert */
/** @typedef {import('./database.types').MovementProfileUpdate} MovementProfileUpdate */
/** @typedef {import('./session').Session} Session */
/** @typedef {import('@supabase/supabase-js').SupabaseClient<Database>} MovementProfilesClient */

/**
 * A failed call, as the page shows it.
 * @typedef {object} ApiError
 * @property {number} status   HTTP status (0 when the request never got an answer).
 * @property {string} code     PostgREST or SQLSTATE code, e.g. 23514.
 * @property {string} message  The database's message, e.g. `goals must contain at least one value`.
 * @property {string} details  e.g. the allowed values.
 * @property {string} hint     For validation errors: the field's name (for a built-in field, its
 *                             column), or `custom_fields` for the object as a whole.
 */

/**
 * @template T
 * @typedef {{ data: T, error: null } | { data: null, error: ApiError }} Result
 */

/**
 * A supabase-js client that acts as the session's user. `accessToken` is supabase-js's hook for
 * tokens minted outside supabase.auth; with a hosted project's own Auth, a plain
 * `createClient(url, anonKey)` plus `supabase.auth.signIn...()` does the same.
 * @param {Session} session
 * @returns {MovementProfilesClient}
 */
export function createProfilesClient(session) {
  return createClient(session.apiUrl, session.anonKey, {
    accessToken: async () => session.accessToken,
  });
}

/**
 * @param {{ status: number, error: import('@supabase/supabase-js').PostgrestError | null }} response
 * @returns {ApiError}
 */
function apiError({ status, error }) {
  return {
    status,
    code: error?.code ?? '',
    message: error?.message || 'The request failed',
    details: error?.details ?? '',
    hint: error?.hint ?? '',
  };
}

/**
 * The catalogue: every field (built-in or added by an admin) with its label, description, whether
 * it is required, and its allowed values with their labels, all in display order. The form is
 * built from this on every load, so a catalogue change shows on the next reload.
 * @param {MovementProfilesClient} supabase
 * @returns {Promise<Result<MovementProfileCatalogue>>}
 */
export async function fetchCatalogue(supabase) {
  const response = await supabase.rpc('movement_profile_catalogue');
  if (response.error) return { data: null, error: apiError(response) };
  return { data: /** @type {MovementProfileCatalogue} */ (response.data), error: null };
}

/**
 * The user's own profile, or null when they have none yet. Row-level security answers "none"
 * for anyone else's id too, so the filter on user_id is for clarity, not for safety.
 * @param {MovementProfilesClient} supabase
 * @param {string} userId
 * @returns {Promise<Result<MovementProfile | null>>}
 */
export async function fetchProfile(supabase, userId) {
  const response = await supabase
    .from('movement_profiles')
    .select('*')
    .eq('user_id', userId)
    .maybeSingle();
  if (response.error) return { data: null, error: apiError(response) };
  return { data: /** @type {MovementProfile | null} */ (response.data), error: null };
}

/**
 * POST /movement-profiles: user_id defaults to auth.uid() in the database.
 * @param {MovementProfilesClient} supabase
 * @param {MovementProfileInsert} choice
 * @returns {Promise<Result<MovementProfile>>}
 */
export async function createProfile(supabase, choice) {
  const response = await supabase.from('movement_profiles').insert(choice).select().single();
  if (response.error) return { data: null, error: apiError(response) };
  return { data: /** @type {MovementProfile} */ (response.data), error: null };
}

/**
 * PUT /movement-profiles/{user_id}, applied only if the row is still the one the user saw
 * (`updated_at` unchanged): a save from a stale page returns null instead of overwriting.
 * @param {MovementProfilesClient} supabase
 * @param {MovementProfile} seen
 * @param {MovementProfileUpdate} changes
 * @returns {Promise<Result<MovementProfile | null>>}
 */
export async function updateProfile(supabase, seen, changes) {
  const response = await supabase
    .from('movement_profiles')
    .update(changes)
    .eq('user_id', seen.user_id)
    .eq('updated_at', seen.updated_at)
    .select()
    .maybeSingle();
  if (response.error) return { data: null, error: apiError(response) };
  return { data: /** @type {MovementProfile | null} */ (response.data), error: null };
}
