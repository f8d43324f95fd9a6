import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import { SecretlintScanner } from '../../src/adapters/secretlint/secretlintScanner.js';
import { shortRuleId } from '../../src/core/ingest/secretFindings.js';

const scanner = new SecretlintScanner();
const rulesIn = async (text: string): Promise<string[]> => (await scanner.scan(text)).map((f) => shortRuleId(f.ruleId));

describe('SecretlintScanner (secretlint rules run directly)', () => {
  test('finds tokens of the preset and of the added rules, with ranges on the secret', async () => {
    const text = 'token: ghp_R8s2Kq9Lm4Nx7Vb1Cz5Hd3Jf6Gt0Wy2Pe4Ua\npassword = Falcon#2231abc\n';
    const findings = await scanner.scan(text);
    assert.deepEqual(findings.map((f) => [shortRuleId(f.ruleId), text.slice(f.start, f.end)]), [
      ['github', 'ghp_R8s2Kq9Lm4Nx7Vb1Cz5Hd3Jf6Gt0Wy2Pe4Ua'],
      ['password-assignment', 'Falcon#2231abc'],
    ]);
  });

  test('placeholders, environment references, code and type annotations are not passwords', async () => {
    for (const text of [
      'db.password=${DB_PASSWORD}\n',
      'api.key=<your-api-key>\n',
      'password: string;\n',
      'const token = login.password;\n',
      'password = getPassword(user)\n',
      'token: ${{ secrets.GITHUB_TOKEN }}\n',
      'password: "********"\n',
      'url = "https://user:${PASS}@example.com"\n',
      '"integrity": "sha512-Zq8Xw2Ev4Rt6Yu8Io0Pa2Sd4Zq8Xw2Ev4Rt6Yu8Io0Pa2Sd4Zq8Xw2Ev4Rt6Yu8Io0Pa2Sd4Zq8Xw2Ev4Rt6Yu8Io0Pa2Sd4=="\n',
    ]) {
      assert.deepEqual(await rulesIn(text), [], text);
    }
  });

  test('a private-key block inside a string literal is found (the preset wants it at the start of a line)', async () => {
    const text = 'export const KEY = `-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----`;\n';
    assert.deepEqual(await rulesIn(text), ['private-key']);
  });

  test('scanning leaves no global performance marks behind (secretlint core\'s profiler kept one per rule per file)', async () => {
    const before = performance.getEntriesByType('mark').length;
    for (let i = 0; i < 50; i++) await scanner.scan(`line ${i}\npassword = Winter_${1000 + i}zz\n`);
    assert.equal(performance.getEntriesByType('mark').length, before);
  });
});
