/** A retrieved chunk as the prompt and the citations see it; `n` is its citation number. */
export interface ContextChunk {
  readonly n: number;
  readonly chunkId: string;
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
  readonly text: string;
}

export interface Prompt {
  readonly system: string;
  readonly user: string;
}

/** The citation of a chunk: `[n] path:start-end`. */
export const citation = (c: ContextChunk): string => `[${c.n}] ${c.path}:${c.startLine}-${c.endLine}`;

/** The sources block every answer ends with. */
export function sourcesBlock(chunks: readonly ContextChunk[]): string {
  return chunks.length === 0 ? 'Sources: none (nothing relevant was found).' : `Sources:\n${chunks.map(citation).join('\n')}`;
}

/** Prompt templates by id; the id is part of the pipeline version. */
export const PROMPT_TEMPLATES = {
  'cited-answer-v1': (question: string, chunks: readonly ContextChunk[]): Prompt => ({
    system:
      'You answer questions about a code and documentation workspace using only the numbered context passages. ' +
      'Cite every claim with its passage number in square brackets, like [2]. If the context does not contain the answer, say so plainly.',
    user: `Context:\n\n${chunks.map((c) => `${citation(c)}\n${c.text}`).join('\n\n---\n\n')}\n\nQuestion: ${question}`,
  }),
} as const;

export type PromptTemplateId = keyof typeof PROMPT_TEMPLATES;

export function buildPrompt(template: string, question: string, chunks: readonly ContextChunk[]): Prompt {
  const build = (PROMPT_TEMPLATES as Record<string, (q: string, c: readonly ContextChunk[]) => Prompt>)[template];
  if (!build) throw new Error(`unknown prompt template "${template}"; known: ${Object.keys(PROMPT_TEMPLATES).join(', ')}`);
  return build(question, chunks);
}

/** The text a prompt hash covers: both parts, framed so they cannot run into each other. */
export const promptText = (p: Prompt): string => JSON.stringify([p.system, p.user]);
