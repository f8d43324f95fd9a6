// A new panel's first answers, carried by its page (see src/extension/explorer/explorerBoot.ts): its
// first requests take them instead of asking. Pure (no DOM), so Node's test runner imports it.
import { TIMELINE_PAGE_ROWS } from '../../src/shared/explorerProtocol.js';

/** The first answers a page needs: once both came with the page, the host is told it will not be asked for them. */
const FIRST = ['init', `page:0:${TIMELINE_PAGE_ROWS}`];

/**
 * Reads the page's data block. Anything malformed gives no answers (the requests are then simply
 * made); so does a page that has state of its own (a reload: the block is as old as the panel).
 */
export function readBoot(text: string | null | undefined, hasState: boolean): Map<string, unknown> {
  const answers = new Map<string, unknown>();
  if (hasState || !text) return answers;
  try {
    const parsed = JSON.parse(text) as unknown;
    const given = typeof parsed === 'object' && parsed !== null ? (parsed as { answers?: unknown }).answers : undefined;
    if (typeof given !== 'object' || given === null || Array.isArray(given)) return answers;
    for (const [key, value] of Object.entries(given)) if (value !== null && value !== undefined) answers.set(key, value);
  } catch {
    // No answers: the requests are made.
  }
  return answers;
}

/** The answers the page carried, each taken once by the request with its key (see bootKey). */
export class FirstAnswers {
  private readonly taken = new Set<string>();

  constructor(
    private readonly answers: Map<string, unknown>,
    /** Called once init and the first page were taken from the page. */
    private readonly onBooted: () => void,
  ) {}

  /** A request with this key (null: not one of the first requests): answered from the page, or asked (`ask`). */
  answer(key: string | null, resolve: (answer: unknown) => void, ask: () => void): void {
    if (key === null || !this.answers.has(key)) return ask();
    const answer = this.answers.get(key);
    this.answers.delete(key);
    this.taken.add(key);
    if (FIRST.includes(key) && FIRST.every((k) => this.taken.has(k))) this.onBooted();
    resolve(answer);
  }
}
