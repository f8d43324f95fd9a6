// What the Document history view derives from a DocumentHistory: sizes, states in words, short
// hashes and which two versions to diff first. Pure functions (unit-tested).
import type { DocumentVersionView } from '../../src/shared/explorerModel.js';

/** 512 B, 1.5 KB, 2.3 MB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** The first hex digits of a content hash, without its algorithm prefix ("sha256:"). */
export function shortHash(hash: string | null, length = 10): string {
  if (!hash) return '–';
  const hex = hash.includes(':') ? hash.slice(hash.indexOf(':') + 1) : hash;
  return hex.slice(0, length);
}

/** "validated (markdown)", "rejected: too large", "pending". */
export function stateLabel(state: DocumentVersionView['state']): string {
  switch (state.kind) {
    case 'validated':
      return `validated (${state.format})`;
    case 'rejected':
      return `rejected: ${state.reason}`;
    case 'pending':
      return 'pending';
  }
}

/**
 * The two versions to diff first: the last two validated ones (a rejected version may have no
 * content to diff), else the last two; null with fewer than two versions.
 */
export function defaultDiffPair(versions: readonly DocumentVersionView[]): { readonly from: number; readonly to: number } | null {
  const validated = versions.filter((v) => v.state.kind === 'validated');
  const ordinals = (validated.length >= 2 ? validated : versions).map((v) => v.ordinal).sort((a, b) => a - b);
  if (ordinals.length < 2) return null;
  return { from: ordinals[ordinals.length - 2]!, to: ordinals[ordinals.length - 1]! };
}
