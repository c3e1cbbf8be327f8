#!/usr/bin/env node
// `npm run test:e2e`: the end-to-end tests on their own. With API_URL, ANON_KEY, JWT_SECRET and
// DB_URL set (as tests/run_suite.sh sets them) they run against that stack; otherwise against a
// throwaway stack on free ports, started here and removed afterwards. Never the dev stack.

import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const cli = path.join(repoRoot, '.venv/bin/movement-profiles');
const STACK_VARIABLES = ['API_URL', 'ANON_KEY', 'JWT_SECRET', 'DB_URL'];

const testFiles = readdirSync(here)
  .filter((name) => name.endsWith('.test.mjs'))
  .map((name) => path.join(here, name));

let stateDir = null;
const env = { ...process.env };
if (!STACK_VARIABLES.every((name) => env[name])) {
  stateDir = path.join(repoRoot, `.stack-e2e-${process.pid}`);
  execFileSync(cli, ['stack', 'up', '--state-dir', stateDir, '--free-ports', '--quiet'], {
    stdio: 'inherit',
  });
  const status = JSON.parse(
    execFileSync(cli, ['stack', 'status', '--state-dir', stateDir, '-o', 'json'], {
      encoding: 'utf8',
    }),
  );
  for (const name of STACK_VARIABLES) env[name] = status[name];
}

let exitCode = 1;
try {
  // Node 20 has no global WebSocket without the flag, and supabase-js's realtime client needs one
  // to construct (the tests never open a channel). Node 22 and later have it by default.
  const result = spawnSync(process.execPath, ['--experimental-websocket', '--test', ...testFiles], {
    env,
    stdio: 'inherit',
  });
  exitCode = result.status ?? 1;
} finally {
  if (stateDir) {
    spawnSync(cli, ['stack', 'down', '--state-dir', stateDir], { stdio: 'ignore' });
    rmSync(stateDir, { recursive: true, force: true });
  }
}
process.exit(exitCode);
