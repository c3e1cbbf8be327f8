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

/** The allowed values straight from the enum types, to compare what the API and page show. */
export function allowedValues() {
  return JSON.parse(
    psql(`select pg_catalog.json_build_object(
      'training_preferences', pg_catalog.enum_range(null::public.movement_profile_training_preference),
      'goals', pg_catalog.enum_range(null::public.movement_profile_goal))`),
  );
}
