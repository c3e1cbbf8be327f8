// The stack the end-to-end tests run against, and ways to act as its users. tests/run_suite.sh
// exports the throwaway stack's API_URL, ANON_KEY, JWT_SECRET and DB_URL; `npm run test:e2e`
// (tests/e2e/run.mjs) starts one of its own. The developer's stack (.stack/) is never used.

import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';

const REQUIRED = ['API_URL', 'ANON_KEY', 'JWT_SECRET', 'DB_URL'];

/** @returns {{ apiUrl: string, anonKey: string, jwtSecret: string, dbUrl: string }} */
export function stackFromEnv() {
  const missing = REQUIRED.filter((name) => !process.env[name]);
  if (missing.length) {
    throw new Error(
      `${missing.join(', ')} not set: run the e2e tests with \`make test\` or \`npm run test:e2e\``,
    );
  }
  return {
    apiUrl: process.env.API_URL,
    anonKey: process.env.ANON_KEY,
    jwtSecret: process.env.JWT_SECRET,
    dbUrl: process.env.DB_URL,
  };
}

/** Runs SQL as `postgres` (BYPASSRLS, not a superuser): for arranging and checking data, never the path tested. */
export function psql(sql) {
  const { dbUrl } = stackFromEnv();
  return execFileSync('psql', [dbUrl, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8',
  }).trim();
}

/** A new row in auth.users, as Supabase Auth would add at sign-up; returns its id. */
export function createUser() {
  const id = randomUUID();
  psql(`insert into auth.users (id, email) values ('${id}', 'e2e-${id}@example.com')`);
  return id;
}

const base64url = (value) => Buffer.from(value).toString('base64url');

/**
 * An access token shaped like Supabase Auth's (and `movement-profiles dev token`'s), signed with
 * the stack's JWT secret.
 */
export function userToken(userId, { expiresIn = 3600, now = Math.floor(Date.now() / 1000) } = {}) {
  const { jwtSecret } = stackFromEnv();
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const claims = base64url(
    JSON.stringify({
      sub: userId,
      role: 'authenticated',
      aud: 'authenticated',
      iat: now,
      exp: now + expiresIn,
    }),
  );
  const signature = createHmac('sha256', jwtSecret)
    .update(`${header}.${claims}`)
    .digest('base64url');
  return `${header}.${claims}.${signature}`;
}

/** The user's profile row as stored, read past RLS; null when there is none. */
export function storedProfile(userId) {
  const row = psql(
    `select pg_catalog.row_to_json(p) from public.movement_profiles p where user_id = '${userId}'`,
  );
  return row ? JSON.parse(row) : null;
}

/**
 * The catalogue straight from its tables (past the API and its functions), in the shape
 * `rpc('movement_profile_catalogue')` answers: active values only, fields and values in display
 * order. What the API and the page show is compared with this.
 */
export function catalogue() {
  return JSON.parse(
    psql(`select pg_catalog.json_build_object('fields', coalesce(pg_catalog.json_agg(
        pg_catalog.json_build_object(
          'name', f.name, 'label', f.label, 'description', f.description,
          'required', f.required, 'built_in', f.built_in,
          'values', (
            select coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
                'value', v.value, 'label', v.label, 'description', v.description)
              order by v.position), '[]')
            from movement_profiles_internal.catalogue_values v
            where v.field = f.name and v.retired_at is null))
        order by f.position), '[]'))
      from movement_profiles_internal.catalogue_fields f`),
  );
}

/** Each field's allowed values, in order: what `rpc('movement_profile_options')` answers. */
export function allowedValues() {
  return Object.fromEntries(
    catalogue().fields.map(({ name, values }) => [name, values.map(({ value }) => value)]),
  );
}

/** A SQL string literal. */
export const literal = (text) => `'${String(text).replace(/'/g, "''")}'`;

/**
 * Calls one of the catalogue's admin functions in SQL, as `postgres` (as an admin's migration or
 * `psql` would): `admin('movement_profile_add_value', { field: 'goals', value: 'pilates' })`.
 * Returns the function's jsonb answer.
 * @param {string} name
 * @param {Record<string, string | boolean | string[] | null>} args  Passed by name.
 */
export function admin(name, args) {
  const sqlValue = (value) => {
    if (value === null) return 'null';
    if (typeof value === 'boolean') return String(value);
    if (Array.isArray(value)) return `array[${value.map(literal).join(', ')}]::text[]`;
    return literal(value);
  };
  const named = Object.entries(args).map(([key, value]) => `${key} => ${sqlValue(value)}`);
  return JSON.parse(psql(`select public.${name}(${named.join(', ')})::text`));
}
