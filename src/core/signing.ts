import { ValidationError } from './errors.js';

/**
 * Sealing the head of the log. A seal is an Ed25519 signature of `headMessage(position, hash)`:
 * the chain hash at a position, which covers every event up to it, and which a forget does not
 * change (it keeps the stored hashes). Core does no crypto: signing and checking are injected.
 *
 * What a seal proves: the holder of the private key with this `key_id` saw this head. What it does
 * not: a holder of that key can rewrite the log and seal it again. Only a head kept elsewhere
 * (`verify --expect-head`) detects that.
 */

/** The stream HeadSigned events are appended to. */
export const SEAL_STREAM = 'ledger-seals';

/** The bytes that are signed for a head. */
export function headMessage(position: number, hash: string): string {
  return `rag-ledger head ${position}:${hash}`;
}

/** Signs heads with one private key. */
export interface HeadSigner {
  /** SPKI DER of the public key, base64. */
  readonly publicKey: string;
  /** A short fingerprint of the public key (see keyId in the node adapter). */
  readonly keyId: string;
  /** Signature of the message, base64. */
  sign(message: string): string;
}

/** True when `signature` (base64) is a valid signature of `message` by `publicKey` (SPKI DER, base64). */
export type SignatureCheck = (publicKey: string, message: string, signature: string) => boolean;

/** A head kept elsewhere: `POSITION:HASH`. */
export interface ExpectedHead {
  readonly position: number;
  readonly hash: string;
}

export function parseExpectedHead(text: string): ExpectedHead {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text.trim());
  if (!m) throw new ValidationError(`invalid head ${JSON.stringify(text)}`, [], 'Give POSITION:HASH as `rag-ledger verify` prints it (e.g. 42:3f9a…, 64 hex digits).');
  return { position: Number(m[1]), hash: m[2]! };
}

/** What verify says about one seal it checked. */
export interface SealState {
  readonly position: number;
  readonly hash: string;
  readonly keyId: string;
}
