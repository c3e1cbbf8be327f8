#!/usr/bin/env node
// Serves the example page on its own origin (not the API's, so the browser really does CORS).
// The bundle is built in memory by esbuild on each request: supabase-js comes from node_modules,
// never from a CDN, and an edit to src/ shows on the next reload.
//
//   npm run web                                   # http://127.0.0.1:5173, for the `make up` stack
//   npm run web -- --user-id 33333333-3333-4333-8333-333333333333    # also prints a signed-in link
//   node examples/web/serve.mjs --port 0 --api-url URL --anon-key KEY   # any stack, a free port

import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { build } from 'esbuild';

const webRoot = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(webRoot, '../..');
const cli = path.join(repoRoot, '.venv/bin/movement-profiles');

const STATIC_FILES = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/styles.css': { file: 'styles.css', type: 'text/css; charset=utf-8' },
};

/**
 * The page's script: src/main.js with supabase-js bundled in, and the stack's URL and anon key
 * (public values, like Vite's `import.meta.env.VITE_*`) compiled in as defaults.
 */
export async function bundle({ apiUrl = '', anonKey = '' } = {}) {
  const result = await build({
    entryPoints: [path.join(webRoot, 'src/main.js')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    write: false,
    sourcemap: 'inline',
    logLevel: 'silent',
    define: {
      'import.meta.env.SUPABASE_URL': JSON.stringify(apiUrl),
      'import.meta.env.SUPABASE_ANON_KEY': JSON.stringify(anonKey),
    },
  });
  return result.outputFiles[0].text;
}

/**
 * Starts the page's server. Resolves to its base URL and a `close()`.
 * @param {{ host?: string, port?: number, apiUrl?: string, anonKey?: string }} options
 */
export async function startWebServer({ host = '127.0.0.1', port = 5173, apiUrl, anonKey } = {}) {
  const server = createServer(async (request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://page');
    const headers = {
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    try {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      } else if (pathname === '/app.js') {
        const script = await bundle({ apiUrl, anonKey });
        response.writeHead(200, { ...headers, 'Content-Type': 'text/javascript; charset=utf-8' });
        response.end(script);
      } else if (Object.hasOwn(STATIC_FILES, pathname)) {
        const { file, type } = STATIC_FILES[pathname];
        response.writeHead(200, { ...headers, 'Content-Type': type });
        response.end(await readFile(path.join(webRoot, file)));
      } else {
        response.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found\n');
      }
    } catch (error) {
      response.writeHead(500, { ...headers, 'Content-Type': 'text/plain' });
      response.end(`${error instanceof Error ? error.message : error}\n`);
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve(undefined));
      }),
  };
}

/** Runs the project's CLI; on failure, exits with its error as one line, no stack trace. */
function runCli(args) {
  try {
    return execFileSync(cli, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const said = String(error.stderr ?? error.message)
      .trim()
      .split('\n')
      .at(-1);
    console.error(`movement-profiles ${args.slice(0, 2).join(' ')} failed: ${said}`);
    process.exit(1);
  }
}

/** The local stack's API URL and anon key, as `movement-profiles stack status` prints them. */
function localStack(stateDir) {
  const args = ['stack', 'status', '-o', 'json', ...(stateDir ? ['--state-dir', stateDir] : [])];
  const status = JSON.parse(runCli(args));
  if (!status.API_URL || !status.ANON_KEY || !status.components?.gateway) {
    console.error('The local stack is not running: start it with `make up`.');
    process.exit(1);
  }
  return { apiUrl: status.API_URL, anonKey: status.ANON_KEY };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: process.env.PORT ?? '5173' },
      'api-url': { type: 'string' },
      'anon-key': { type: 'string' },
      'state-dir': { type: 'string' },
      'user-id': { type: 'string' },
    },
  });
  const stack =
    values['api-url'] && values['anon-key']
      ? { apiUrl: values['api-url'], anonKey: values['anon-key'] }
      : localStack(values['state-dir']);
  const { url } = await startWebServer({ host: values.host, port: Number(values.port), ...stack });
  console.log(`Serving examples/web on ${url} for the API at ${stack.apiUrl}`);
  if (values['user-id']) {
    const stateDir = values['state-dir'] ? ['--state-dir', values['state-dir']] : [];
    const token = runCli(['dev', 'token', '--user-id', values['user-id'], ...stateDir]).trim();
    console.log(
      `Open, signed in as ${values['user-id']} for an hour:\n  ${url}/#access_token=${token}`,
    );
  } else {
    console.log(`Open ${url}/#access_token=TOKEN, with TOKEN from:`);
    console.log('  .venv/bin/movement-profiles dev token --user-id USER_ID');
  }
  console.log('Stop with Ctrl+C.');
}
