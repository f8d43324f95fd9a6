import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_ANSWER_CHARS_LIMIT, TRUNCATED_MARKER, clipRecordedText } from '../../src/app/ask/generator.js';
import { ValidationError } from '../../src/core/errors.js';
import { MAX_MODEL_TEXT_CHARS, encodeEvent } from '../../src/core/events/eventCodec.js';

test('clipRecordedText keeps a short text as is and cuts a long one to the limit, marked, without splitting a surrogate pair', () => {
  assert.equal(clipRecordedText('short', 100), 'short');
  const cut = clipRecordedText('x'.repeat(500), 100);
  assert.equal(cut.length, 100);
  assert.ok(cut.endsWith(TRUNCATED_MARKER));
  assert.equal(clipRecordedText(cut, 100), cut, 'clipping twice changes nothing');
  const emoji = clipRecordedText('😀'.repeat(100), 50);
  assert.ok(emoji.length <= 50 && emoji.endsWith(TRUNCATED_MARKER));
  assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(emoji), 'no lone high surrogate');
});

test('the log refuses a model text longer than MAX_MODEL_TEXT_CHARS (a runaway answer), and takes one at the answer-cap limit', () => {
  const failed = (partial: string) => ({ type: 'InferenceFailed', data: { query_id: 'q1', model_id: 'm', reason: 'other', detail: 'stopped', partial_text: partial, failed_at: '2026-01-02T03:04:05Z' } });
  assert.throws(() => encodeEvent(failed('w'.repeat(MAX_MODEL_TEXT_CHARS + 1))), (err: unknown) => err instanceof ValidationError && /partial_text has 1100001 characters/.test(err.message) && /maxAnswerChars/.test(err.hint));
  assert.doesNotThrow(() => encodeEvent(failed('w'.repeat(MAX_ANSWER_CHARS_LIMIT))));
  const completed = { type: 'InferenceCompleted', data: { query_id: 'q1', response_text: 'w'.repeat(MAX_MODEL_TEXT_CHARS + 1), tokens_used: 0, model_id: 'm', duration_ms: 1, unmatched_citations: [], completed_at: '2026-01-02T03:04:05Z' } };
  assert.throws(() => encodeEvent(completed), /response_text has/);
});
