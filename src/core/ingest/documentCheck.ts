import type { DocumentFormat } from '../chunking/chunker.js';
import type { SecretPolicy } from './secretFindings.js';

/** Why a document was not ingested (DocumentRejected.reason). */
export type RejectReason = 'binary' | 'too_large' | 'invalid_utf8' | 'unreadable' | 'vanished' | 'secret' | 'link' | 'other';

export type DocumentVerdict =
  | { readonly ok: true; readonly text: string; readonly format: DocumentFormat; readonly language: string }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

export interface DocumentRules {
  /** Files larger than this are rejected as too_large. */
  readonly maxBytes: number;
  /** Ingest files that look like secrets (by name or by a private-key block). Off by default. */
  readonly allowSecrets: boolean;
  /**
   * What a secret found in the content does (default reject): the document is rejected, or each
   * secret is replaced by a `[REDACTED:rule]` marker before anything is recorded.
   */
  readonly secrets?: SecretPolicy;
}

export const DEFAULT_MAX_BYTES = 1024 * 1024;

const MARKDOWN = new Set(['md', 'markdown', 'mdx', 'mdown']);
const CODE: Record<string, string> = {
  rs: 'rust', ts: 'typescript', tsx: 'typescript', mts: 'typescript', cts: 'typescript', js: 'javascript', jsx: 'javascript', mjs: 'javascript', cjs: 'javascript',
  py: 'python', go: 'go', java: 'java', kt: 'kotlin', c: 'c', h: 'c', cc: 'cpp', cpp: 'cpp', hpp: 'cpp', cs: 'csharp', rb: 'ruby', php: 'php',
  swift: 'swift', scala: 'scala', sh: 'shell', bash: 'shell', zsh: 'shell', ps1: 'powershell', sql: 'sql', lua: 'lua', r: 'r', dart: 'dart',
  toml: 'toml', yaml: 'yaml', yml: 'yaml', json: 'json', jsonc: 'json', xml: 'xml', html: 'html', css: 'css', scss: 'scss', vue: 'vue', svelte: 'svelte',
};

const extensionOf = (path: string): string => {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
};

/** The chunking format and language of a workspace-relative path (forward slashes). */
export function formatOf(path: string): { format: DocumentFormat; language: string } {
  const ext = extensionOf(path);
  if (MARKDOWN.has(ext)) return { format: 'markdown', language: 'markdown' };
  const language = CODE[ext];
  return language ? { format: 'code', language } : { format: 'text', language: 'plaintext' };
}

const SECRET_NAMES = [
  /^\.env/i, // .env, .env.local, .envrc, .env-prod…
  /\.(pem|key|p12|pfx|jks|keystore|ppk|asc|gpg|kdbx)$/i,
  /^id_(rsa|dsa|ecdsa|ed25519)(?!.*\.(md|txt|rst|adoc|html)$)/i, // id_rsa, id_rsa.pub, id_rsa_old, id_ed25519.bak… (not id_rsa.md)
  /^\.?(netrc|pgpass|htpasswd|git-credentials|npmrc|pypirc|dockercfg)$/i,
  /^credentials(\.json)?$/i,
];

/** Why a path looks like a secret by its name, or null. `.env.example` and the like are not secrets. */
export function secretByName(path: string): string | null {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (/^\.env[.-](example|sample|template|dist)$/i.test(base)) return null;
  return SECRET_NAMES.some((re) => re.test(base)) ? `"${base}" looks like a secret (by its name)` : null;
}

const PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/;

/** Whether the text still holds a private-key block header (the last line of defence after a detector). */
export const hasPrivateKeyBlock = (text: string): boolean => PRIVATE_KEY.test(text);
const MAGIC: readonly (readonly [string, readonly number[]])[] = [
  ['PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['JPEG image', [0xff, 0xd8, 0xff]],
  ['GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['PDF document', [0x25, 0x50, 0x44, 0x46, 0x2d]],
  ['ZIP archive', [0x50, 0x4b, 0x03, 0x04]],
  ['gzip archive', [0x1f, 0x8b]],
  ['WebAssembly module', [0x00, 0x61, 0x73, 0x6d]],
  ['ELF executable', [0x7f, 0x45, 0x4c, 0x46]],
];

/** Magic numbers of printable ASCII ("GIF8", "%PDF-"): a text can start with them too (a note about PDF headers). */
const TEXTUAL_MAGIC = new Set(['GIF image', 'PDF document']);

/** A PDF ends with "%%EOF" (possibly followed by a line break or some padding). */
function hasPdfTrailer(bytes: Uint8Array): boolean {
  const tail = bytes.subarray(Math.max(0, bytes.length - 1024));
  return String.fromCharCode(...tail).includes('%%EOF');
}

/**
 * What kind of binary the bytes are, or null for text. Looks at the first 8 KiB like git does. A magic
 * number that is printable text counts only with binary evidence besides: a NUL byte or bytes that are
 * not UTF-8 in those 8 KiB, or (a PDF) its "%%EOF" trailer.
 */
export function binaryKind(bytes: Uint8Array): string | null {
  const n = Math.min(bytes.length, 8192);
  const nul = bytes.subarray(0, n).indexOf(0);
  const looksBinary = (): boolean => {
    if (nul >= 0) return true;
    const bad = firstInvalidUtf8(bytes.subarray(0, n));
    // A character cut at the 8 KiB boundary is not evidence.
    return bad >= 0 && (n === bytes.length || bad < n - 3);
  };
  for (const [name, magic] of MAGIC) {
    if (!magic.every((b, i) => bytes[i] === b)) continue;
    if (!TEXTUAL_MAGIC.has(name) || looksBinary() || (name === 'PDF document' && hasPdfTrailer(bytes))) return name;
  }
  return nul >= 0 ? `binary data (a NUL byte at offset ${nul})` : null;
}

/** Offset of the first byte that is not valid UTF-8, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0 || i + need >= bytes.length) return i;
    for (let k = 1; k <= need; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    const b1 = bytes[i + 1]!;
    if ((b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f) || (b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)) return i;
    i += need + 1;
  }
  return -1;
}

const lineAt = (bytes: Uint8Array, offset: number): number => {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
};

/** Decides whether a file's bytes can be ingested, and as what. Pure: the caller reads the file. */
export function checkDocument(path: string, bytes: Uint8Array, rules: DocumentRules): DocumentVerdict {
  if (bytes.length > rules.maxBytes) {
    return { ok: false, reason: 'too_large', detail: `${bytes.length} bytes is over the limit of ${rules.maxBytes} bytes; raise the maximum file size to ingest it` };
  }
  const secretName = rules.allowSecrets ? null : secretByName(path);
  if (secretName) return { ok: false, reason: 'secret', detail: `${secretName}; secrets are never ingested unless explicitly allowed` };
  const kind = binaryKind(bytes);
  if (kind) return { ok: false, reason: 'binary', detail: `${kind}; only text files are ingested` };
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) return { ok: false, reason: 'invalid_utf8', detail: `invalid UTF-8 at byte ${bad} (line ${lineAt(bytes, bad)}); save the file as UTF-8 to ingest it` };
  const text = new TextDecoder('utf-8').decode(bytes); // drops one leading byte-order mark
  // When secrets are redacted, the caller checks again after redaction (a block the detector missed is still rejected).
  if (!rules.allowSecrets && rules.secrets !== 'redact' && PRIVATE_KEY.test(text)) return { ok: false, reason: 'secret', detail: 'the file contains a private key block; secrets are never ingested unless explicitly allowed' };
  return { ok: true, text, ...formatOf(path) };
}
