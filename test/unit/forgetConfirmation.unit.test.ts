import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forgetConfirmation } from '../../src/app/forget/forgetConfirmation.js';

test('the forget confirmation says what is removed, that it is irreversible, what stays, and who is recorded', () => {
  const c = forgetConfirmation({ documentId: 'doc-1', source: 'notes/secret.md', events: 7, questions: ['q-1', 'q-2'] }, 'alice via VS Code');
  assert.equal(c.message, 'Forget notes/secret.md?');
  assert.equal(c.confirm, 'Forget Document');
  assert.match(c.detail, /content, chunk text and vectors are removed from the log's readable payloads/);
  assert.match(c.detail, /every projection and export made from now on/);
  assert.match(c.detail, /irreversible/);
  assert.match(c.detail, /2 questions cited it: their prompts and answers are emptied too; their provenance \(chunk ids, ranks, scores, paths\) stays, marked "source forgotten"/);
  assert.match(c.detail, /hash chain still verifies: a DocumentForgotten event records who \(alice via VS Code\), why, and the digests of the 7 emptied events/);
  assert.match(c.detail, /Not covered: exports, backups and copies made before now/);
  const one = forgetConfirmation({ documentId: 'doc-1', source: 'a.md', events: 1, questions: ['q-1'] }, 'bob via VS Code');
  assert.match(one.detail, /1 question cited it: its prompt and answer are emptied too/);
  assert.match(one.detail, /the 1 emptied event\./);
  assert.match(forgetConfirmation({ documentId: 'doc-1', source: 'a.md', events: 3, questions: [] }, 'x').detail, /No recorded question cited it/);
});
