import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { repoRoot } from '../support/cli.js';

/** Lints `code` as if it were the file at `path`, returning the restricted-import messages. */
async function restrictedImports(path: string, code: string): Promise<string[]> {
  // The project's real config, minus type information (the probe file does not exist on disk).
  const eslint = new ESLint({ cwd: repoRoot, overrideConfig: [tseslint.configs.disableTypeChecked] });
  const [result] = await eslint.lintText(code, { filePath: `${repoRoot}/${path}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('lint enforces the layer rules', () => {
  const cases: [string, string, RegExp | null][] = [
    ['src/core/probe.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", /src\/core is pure/],
    ['src/core/probe.ts', "import { readFileSync } from 'fs';\nexport const x = readFileSync;\n", /src\/core is pure/],
    ['src/core/probe.ts', "import { SqlJsEventStore } from '../adapters/sqljs/sqljsEventStore.js';\nexport const x = SqlJsEventStore;\n", /outer layers/],
    ['src/core/probe.ts', "import { ProjectionRunner } from '../app/projectionRunner.js';\nexport const x = ProjectionRunner;\n", /outer layers/],
    ['src/app/probe.ts', "import { SqlJsEventStore } from '../adapters/sqljs/sqljsEventStore.js';\nexport const x = SqlJsEventStore;\n", /adapters are injected/],
    ['src/app/probe.ts', "import * as vscode from 'vscode';\nexport const x = vscode;\n", /Only src\/extension may import vscode/],
    ['src/cli/probe.ts', "import * as vscode from 'vscode';\nexport const x = vscode;\n", /Only src\/extension may import vscode/],
    ['src/adapters/probe.ts', "import * as vscode from 'vscode';\nexport const x = vscode;\n", /Only src\/extension may import vscode/],
    ['src/extension/probe.ts', "import * as vscode from 'vscode';\nexport const x = vscode;\n", null],
    ['src/app/probe.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", null],
  ];
  for (const [path, code, expected] of cases) {
    test(`${path}: ${code.split('\n')[0]} ${expected ? 'is refused' : 'is allowed'}`, async () => {
      const messages = await restrictedImports(path, code);
      if (expected) assert.ok(messages.some((m) => expected.test(m)), `expected a violation, got ${JSON.stringify(messages)}`);
      else assert.deepEqual(messages, []);
    });
  }
});
