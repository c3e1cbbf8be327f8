// An independent supabase-js client (Node, no browser, none of examples/web's code) against the
// same stack: what any frontend or edge function written with supabase-js meets.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { createClient } from '@supabase/supabase-js';

import {
  allowedValues,
  catalogue,
  createUser,
  stackFromEnv,
  storedProfile,
  userToken,
} from './stack.mjs';

const stack = stackFromEnv();

/** A client acting as `userId`, the way a frontend holding that user's session does. */
function clientFor(userId) {
  const token = userToken(userId);
  return createClient(stack.apiUrl, stack.anonKey, { accessToken: async () => token });
}

/**
 * Calls the API and reads the database's own answer (`expected`) just before and just after: a
 * test file running alongside (frontend.test.mjs) changes the catalogue, and an answer given
 * between two equal reads was given from that state. Tries again while they differ.
 * @param {() => PromiseLike<{ data: any, error: any, status: number }>} call
 * @param {() => unknown} expected
 */
async function answerAndExpected(call, expected) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = expected();
    const answer = await call();
    if (JSON.stringify(expected()) === JSON.stringify(before)) return { ...answer, before };
  }
  throw new Error('the catalogue changed during every call');
}

describe('supabase-js against the stack', () => {
  const owner = createUser();
  const stranger = createUser();
  const asOwner = clientFor(owner);
  const asStranger = clientFor(stranger);

  test('rpc movement_profile_options() lists the allowed values, for anon too', async () => {
    const anon = createClient(stack.apiUrl, stack.anonKey);
    for (const client of [anon, asOwner]) {
      const { data, error, status, before } = await answerAndExpected(
        () => client.rpc('movement_profile_options'),
        allowedValues,
      );
      assert.equal(error, null);
      assert.equal(status, 200);
      assert.deepEqual(data, before);
    }
  });

  test('rpc movement_profile_catalogue() lists every field with its labels, for anon too', async () => {
    const anon = createClient(stack.apiUrl, stack.anonKey);
    for (const client of [anon, asOwner]) {
      const { data, error, status, before } = await answerAndExpected(
        () => client.rpc('movement_profile_catalogue'),
        catalogue,
      );
      assert.equal(error, null);
      assert.equal(status, 200);
      assert.deepEqual(data, before);
    }
  });

  test("insert creates the caller's profile (201), user_id defaulting to auth.uid()", async () => {
    const { data, error, status } = await asOwner
      .from('movement_profiles')
      .insert({ training_preferences: ['strength_training', 'yoga'], goals: ['build_muscle'] })
      .select()
      .single();
    assert.equal(error, null);
    assert.equal(status, 201);
    assert.equal(data.user_id, owner);
    assert.deepEqual(data.training_preferences, ['strength_training', 'yoga']);
    assert.deepEqual(data.goals, ['build_muscle']);
    assert.equal(data.created_at, data.updated_at);
  });

  test('select by user_id reads it back (200)', async () => {
    const { data, error, status } = await asOwner
      .from('movement_profiles')
      .select('*')
      .eq('user_id', owner)
      .single();
    assert.equal(error, null);
    assert.equal(status, 200);
    assert.deepEqual(data, storedProfile(owner));
  });

  test('update changes the arrays (200) and moves updated_at only', async () => {
    const before = storedProfile(owner);
    const { data, error, status } = await asOwner
      .from('movement_profiles')
      .update({ goals: ['rehab', 'general_health'] })
      .eq('user_id', owner)
      .select()
      .single();
    assert.equal(error, null);
    assert.equal(status, 200);
    assert.deepEqual(data.goals, ['rehab', 'general_health']);
    assert.deepEqual(data.training_preferences, before.training_preferences);
    assert.equal(data.created_at, before.created_at);
    assert.ok(new Date(data.updated_at) > new Date(before.updated_at));
  });

  test('an update filtered on a stale updated_at changes nothing', async () => {
    const before = storedProfile(owner);
    const { data, error } = await asOwner
      .from('movement_profiles')
      .update({ goals: ['lose_fat'] })
      .eq('user_id', owner)
      .eq('updated_at', '2000-01-01T00:00:00+00:00')
      .select();
    assert.equal(error, null);
    assert.deepEqual(data, []);
    assert.deepEqual(storedProfile(owner), before);
  });

  const allowed = /^Allowed values: /;
  const invalidWrites = [
    [{ goals: ['dance'] }, 'goals', 'goals contains an invalid value: "dance"', allowed],
    [{ goals: [] }, 'goals', 'goals must contain at least one value', allowed],
    [
      { training_preferences: ['yoga', 'yoga'] },
      'training_preferences',
      'training_preferences contains a duplicate value: "yoga"',
      allowed,
    ],
    [
      { training_preferences: 'yoga' },
      'training_preferences',
      'training_preferences must be a JSON array of strings',
      allowed,
    ],
    // Fields beyond the built-in ones live in custom_fields: an object of field -> values.
    [
      { custom_fields: { e2e_no_such_field: ['x'] } },
      'custom_fields',
      'custom_fields contains an unknown field: "e2e_no_such_field"',
      /^Fields: /,
    ],
    [{ custom_fields: ['x'] }, 'custom_fields', 'custom_fields must be a JSON object', /^Fields: /],
  ];
  for (const [changes, field, message, details] of invalidWrites) {
    test(`bad input ${JSON.stringify(changes)} is refused with 400, hint ${field}, nothing stored`, async () => {
      const before = storedProfile(owner);
      const { data, error, status } = await asOwner
        .from('movement_profiles')
        .update(changes)
        .eq('user_id', owner)
        .select();
      assert.equal(data, null);
      assert.equal(status, 400);
      assert.equal(error.code, '23514');
      assert.equal(error.hint, field);
      assert.equal(error.message, message);
      assert.match(error.details, details);
      assert.deepEqual(storedProfile(owner), before);
    });
  }

  test("another user's profile is invisible: by id, in a list, and to an update", async () => {
    const before = storedProfile(owner);
    const byId = await asStranger
      .from('movement_profiles')
      .select('*')
      .eq('user_id', owner)
      .maybeSingle();
    assert.equal(byId.error, null);
    assert.equal(byId.data, null);

    const all = await asStranger.from('movement_profiles').select('*');
    assert.equal(all.error, null);
    assert.deepEqual(all.data, [], 'a user with no profile sees no rows at all');

    const update = await asStranger
      .from('movement_profiles')
      .update({ goals: ['lose_fat'] })
      .eq('user_id', owner)
      .select();
    assert.equal(update.error, null);
    assert.deepEqual(update.data, []);
    assert.deepEqual(storedProfile(owner), before);
  });

  test('creating a profile for someone else is refused (403), nothing stored', async () => {
    const { error, status } = await asStranger
      .from('movement_profiles')
      .insert({ user_id: owner, training_preferences: ['running'], goals: ['lose_fat'] });
    assert.equal(status, 403);
    assert.equal(error.code, '42501');
    assert.equal(storedProfile(stranger), null);
  });

  test('a second profile for the same user is refused (409)', async () => {
    const { error, status } = await asOwner
      .from('movement_profiles')
      .insert({ training_preferences: ['running'], goals: ['lose_fat'] });
    assert.equal(status, 409);
    assert.equal(error.code, '23505');
  });

  test('without a user token (anon key only) the table is closed (401)', async () => {
    const anon = createClient(stack.apiUrl, stack.anonKey);
    const { data, error, status } = await anon.from('movement_profiles').select('*');
    assert.equal(data, null);
    assert.equal(status, 401);
    assert.equal(error.code, '42501');
  });

  test('an expired token is refused (401), past the 30 s of allowed clock skew', async () => {
    const expired = userToken(owner, { expiresIn: -120 });
    const client = createClient(stack.apiUrl, stack.anonKey, { accessToken: async () => expired });
    const { data, status } = await client.from('movement_profiles').select('*');
    assert.equal(data, null);
    assert.equal(status, 401);
  });

  test('a token signed with another secret is refused (401)', async () => {
    const forged = userToken(owner).replace(/\.[^.]+$/, '.c2lnbmVkLXdpdGgtYW5vdGhlci1zZWNyZXQ');
    const client = createClient(stack.apiUrl, stack.anonKey, { accessToken: async () => forged });
    const { status } = await client.from('movement_profiles').select('*');
    assert.equal(status, 401);
  });
});
