// Bundles the extension (dist/extension.js), the CLI (dist/cli.js), the embedding worker
// (dist/embedWorker.js), the index build process (dist/lanceBuild.js), the webview scripts
// (dist/webview/) with the codicon font, and copies the sql.js WebAssembly binary beside them.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
// --outdir DIR writes the bundles elsewhere than dist/ (tests inspect a production build without touching dist/).
const outdirArg = process.argv.indexOf('--outdir');
const out = outdirArg > 0 && process.argv[outdirArg + 1] ? process.argv[outdirArg + 1] : 'dist';
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
  define: { RAG_LEDGER_VERSION: JSON.stringify(version) },
  // Written by writeOutputs, each file replaced whole: a process starting the CLI while a build runs
  // (one test file builds while another runs the CLI) gets the old file or the new one, never an
  // empty or half-written one (esbuild truncates a file, then writes it).
  write: false,
};

/** Replaces `path` whole: written beside it, then renamed over it. */
function replaceFile(path, write) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  write(tmp);
  renameSync(tmp, path);
}

function writeOutputs(result) {
  for (const f of result.outputFiles) {
    replaceFile(f.path, (tmp) => {
      writeFileSync(tmp, f.contents);
      if (f.path.endsWith('/cli.js')) chmodSync(tmp, 0o755);
    });
  }
  return result;
}

// Packages with native binaries (and the Arrow library LanceDB shares objects with) load from
// node_modules at run time.
const nativeExternals = ['@huggingface/transformers', '@lancedb/lancedb', 'apache-arrow'];

// The packaged extension (--production) bundles LanceDB's JavaScript and Apache Arrow too, so the .vsix
// carries a few files instead of hundreds; only LanceDB's native binary (@lancedb/lancedb-<platform>)
// and transformers.js (with onnxruntime-node's binaries) load from node_modules. Arrow is resolved to
// one file for every importer (its CommonJS build), so LanceDB and this code share its classes.
const packagedExternals = ['@huggingface/transformers', '@lancedb/lancedb-*'];
const oneArrow = {
  name: 'one-arrow',
  setup(b) {
    const arrow = require.resolve('apache-arrow');
    b.onResolve({ filter: /^apache-arrow$/ }, () => ({ path: arrow }));
  },
};

mkdirSync(out, { recursive: true });
const results = await Promise.all([
  build({
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: `${out}/extension.js`,
    ...(production ? { external: ['vscode', ...packagedExternals], plugins: [oneArrow] } : { external: ['vscode', ...nativeExternals] }),
  }),
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: `${out}/cli.js`, banner: { js: '#!/usr/bin/env node' }, external: nativeExternals }),
  build({ ...common, entryPoints: ['src/adapters/transformers/embedWorker.ts'], outfile: `${out}/embedWorker.js`, external: ['@huggingface/transformers'] }),
  // The process that builds large LanceDB indexes (src/adapters/lancedb/indexBuildProcess.ts).
  build({
    ...common,
    entryPoints: ['src/adapters/lancedb/lanceBuildChild.ts'],
    outfile: `${out}/lanceBuild.js`,
    ...(production ? { external: packagedExternals, plugins: [oneArrow] } : { external: nativeExternals }),
  }),
  // Webview scripts run in the browser sandbox of a webview: one self-contained file each.
  build({ ...common, platform: 'browser', target: 'chrome120', format: 'iife', sourcemap: false, minify: true, entryPoints: ['webview/answer.ts'], outfile: `${out}/webview/answer.js` }),
  build({ ...common, platform: 'browser', target: 'chrome120', format: 'iife', sourcemap: false, minify: true, entryPoints: ['webview/explorer/main.ts'], outfile: `${out}/webview/explorer.js`, metafile: true }).then((r) => {
    // The explorer's script is loaded before anything is shown: keep it small.
    const bytes = Object.values(r.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
    if (bytes > 600_000) throw new Error(`dist/webview/explorer.js is ${bytes} bytes; keep it under 600 KB`);
    return r;
  }),
]);
results.forEach(writeOutputs);
// The codicon font for the webviews (served from the extension, allowed by the CSP's font-src).
const copy = (from, to) => replaceFile(to, (tmp) => copyFileSync(from, tmp));
for (const f of ['codicon.css', 'codicon.ttf']) copy(require.resolve(`@vscode/codicons/dist/${f}`), `${out}/webview/${f}`);
copy(require.resolve('sql.js/dist/sql-wasm.wasm'), `${out}/sql-wasm.wasm`);
