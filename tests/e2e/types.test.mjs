// The frontend types are generated from the schema, never written by hand: regenerate them from
// the throwaway stack (migrations just applied) and compare with the committed file. Then
// type-check the page against them, so a renamed column or value breaks the build, not a user.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { stackFromEnv } from './stack.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const GENERATOR = path.join(repoRoot, 'examples/web/scripts/generate-types.mjs');
const COMMITTED = path.join(repoRoot, 'examples/web/src/database.types.ts');

/** The first line where two texts differ, for a failure message a person can act on. */
function firstDifference(expected, actual) {
  const want = expected.split('\n');
  const got = actual.split('\n');
  const line = want.findIndex((text, index) => text !== got[index]);
  const at = line === -1 ? want.length : line;
  const [schema, file] = [JSON.stringify(want[at]), JSON.stringify(got[at])];
  return `line ${at + 1}: schema gives ${schema}, committed file has ${file}`;
}

test('examples/web/src/database.types.ts is what the schema generates', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'movement-profiles-types-'));
  try {
    const fresh = path.join(folder, 'database.types.ts');
    execFileSync(
      process.execPath,
      [GENERATOR, '--db-url', stackFromEnv().dbUrl, '--output', fresh],
      {
        encoding: 'utf8',
      },
    );
    const generated = readFileSync(fresh, 'utf8');
    const committed = readFileSync(COMMITTED, 'utf8');
    assert.ok(
      generated === committed,
      'examples/web/src/database.types.ts is out of date with supabase/migrations ' +
        `(${firstDifference(generated, committed)}). Regenerate it with \`npm run gen:types\` ` +
        '(or `make types`) while `make up` runs, and commit the result.',
    );
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('the page type-checks against the generated types (tsc --checkJs)', () => {
  const tsc = path.join(repoRoot, 'node_modules/.bin/tsc');
  const result = spawnSync(tsc, ['-p', path.join(repoRoot, 'examples/web')], { encoding: 'utf8' });
  assert.equal(result.status, 0, `tsc found type errors:\n${result.stdout}${result.stderr}`);
});
