// Lint configuration. The layer rules below are the architecture's guard rails:
// a forbidden import fails `npm run lint` (and therefore CI).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const vscodeOnlyInExtension = {
  name: 'vscode',
  message: 'Only src/extension may import vscode. Move VS Code wiring there and pass plain values down.',
};
const infraPackages = ['sql.js', '@lancedb/*', '@huggingface/*', 'ollama', 'apache-arrow'];

/** no-restricted-imports for one layer. */
function restrict({ paths = [], patterns = [] }) {
  return { 'no-restricted-imports': ['error', { paths, patterns }] };
}

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.cache/**', '.test-artifacts/**', 'test/fixtures/sample-workspace/**', '**/*.d.ts', '**/*.tmp.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.mjs', '.ci/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-exports': ['error', { restrictDefaultExports: { direct: true, named: true, defaultFrom: true, namedFrom: true, namespaceFrom: true } }],
      eqeqeq: ['error', 'always'],
      // Async generators over synchronous sources are how the store port streams pages.
      '@typescript-eslint/require-await': 'off',
    },
  },
  { files: ['*.config.mjs'], rules: { 'no-restricted-exports': 'off' } },
  // CommonJS test code that runs inside VS Code's extension host (mocha's TDD interface).
  {
    files: ['**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: {
        require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly', setTimeout: 'readonly',
        suite: 'readonly', test: 'readonly', suiteSetup: 'readonly', suiteTeardown: 'readonly', setup: 'readonly', teardown: 'readonly',
      },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off', 'no-restricted-exports': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', Buffer: 'readonly' } },
  },
  // Layer: core is pure. No Node built-ins, no infrastructure, no outer layers.
  {
    files: ['src/core/**/*.ts'],
    rules: restrict({
      paths: [vscodeOnlyInExtension, ...nodeBuiltins.map((name) => ({ name, message: 'src/core is pure: no Node built-ins. Put I/O in src/adapters behind a port.' }))],
      patterns: [
        { group: ['node:*'], message: 'src/core is pure: no Node built-ins. Put I/O in src/adapters behind a port.' },
        { group: ['**/adapters/**', '**/app/**', '**/cli/**', '**/extension/**'], message: 'src/core may not depend on outer layers.' },
        { group: infraPackages, message: 'src/core may not depend on infrastructure packages.' },
      ],
    }),
  },
  // Layer: app orchestrates ports; it knows no infrastructure by name.
  {
    files: ['src/app/**/*.ts'],
    rules: restrict({
      paths: [vscodeOnlyInExtension],
      patterns: [
        { group: ['**/adapters/**', '**/cli/**', '**/extension/**'], message: 'src/app may depend on src/core only; adapters are injected.' },
        { group: infraPackages, message: 'src/app may not name infrastructure packages; use a port.' },
      ],
    }),
  },
  {
    files: ['src/adapters/**/*.ts'],
    rules: restrict({
      paths: [vscodeOnlyInExtension],
      patterns: [{ group: ['**/cli/**', '**/extension/**'], message: 'src/adapters may not depend on the CLI or the extension.' }],
    }),
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: restrict({
      paths: [vscodeOnlyInExtension],
      patterns: [{ group: ['**/extension/**'], message: 'src/cli may not depend on src/extension.' }],
    }),
  },
  {
    files: ['src/shared/**/*.ts', 'webview/**/*.ts'],
    rules: restrict({
      paths: [vscodeOnlyInExtension, ...nodeBuiltins.map((name) => ({ name, message: 'Shared and webview code runs in the browser.' }))],
      patterns: [{ group: ['**/core/**', '**/app/**', '**/adapters/**', '**/cli/**', '**/extension/**'], message: 'Shared/webview code may import only types from src/shared.' }],
    }),
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: restrict({ paths: [vscodeOnlyInExtension] }),
  },
);
