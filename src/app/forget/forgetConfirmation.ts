import type { ForgetPreview } from './forgetService.js';

/** The modal confirmation of a forget: exactly what happens, what stays, and what is not covered. */
export interface ForgetConfirmation {
  readonly message: string;
  readonly detail: string;
  readonly confirm: string;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Builds the confirmation text for forgetting the previewed document, asked by `requestedBy`. */
export function forgetConfirmation(preview: ForgetPreview, requestedBy: string): ForgetConfirmation {
  const q = preview.questions.length;
  const paragraphs = [
    `Its content, chunk text and vectors are removed from the log's readable payloads (the store's journal and database are rewritten) and from every projection and export made from now on: the read models, the vector index and the explorer's indexes. This is irreversible.`,
    q > 0
      ? `${plural(q, 'question')} cited it: ${q === 1 ? 'its' : 'their'} prompt${q === 1 ? '' : 's'} and answer${q === 1 ? '' : 's'} are emptied too; ${q === 1 ? 'its' : 'their'} provenance (chunk ids, ranks, scores, paths) stays, marked "source forgotten".`
      : 'No recorded question cited it.',
    `The hash chain still verifies: a DocumentForgotten event records who (${requestedBy}), why, and the digests of the ${plural(preview.events, 'emptied event')}.`,
    'What stays: the path, sizes, content hash, times, and the fact that it existed. Not covered: exports, backups and copies made before now.',
    'The file itself is not touched: ingest skips it while it is unchanged; add it to .gitignore or .ragledgerignore to keep it out.',
  ];
  return { message: `Forget ${preview.source}?`, detail: paragraphs.join('\n\n'), confirm: 'Forget Document' };
}
