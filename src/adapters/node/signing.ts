import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RagLedgerError } from '../../core/errors.js';
import { keyIdOf } from '../../core/eventLog.js';
import type { HeadSigner, SignatureCheck } from '../../core/signing.js';
import { sha256 } from './sha256.js';

/** Ed25519 (node:crypto) for the seals of the log's head: see core/signing.ts. */

export class SigningKeyError extends RagLedgerError {
  readonly code = 'signing_key';
  constructor(message: string, hint: string) {
    super(message, hint);
  }
}

export const ed25519Check: SignatureCheck = (publicKey, message, signature) => {
  try {
    const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ed25519' && verify(null, Buffer.from(message, 'utf8'), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
};

/** A signer over an Ed25519 private key in PEM (PKCS#8). `where` names its source in errors. */
export function signerFromPem(pem: string, where: string): HeadSigner {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new SigningKeyError(`the signing key in ${where} cannot be read (${(err as Error).message})`, 'Give an Ed25519 private key in PEM, e.g. from `openssl genpkey -algorithm ed25519`.');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SigningKeyError(`the signing key in ${where} is ${key.asymmetricKeyType ?? 'not an asymmetric key'}, not Ed25519`, 'Create one with `openssl genpkey -algorithm ed25519`.');
  const publicKey = createPublicKey(key).export({ format: 'der', type: 'spki' }).toString('base64');
  return {
    publicKey,
    keyId: keyIdOf(sha256, publicKey),
    sign: (message) => sign(null, Buffer.from(message, 'utf8'), key).toString('base64'),
  };
}

/** A new Ed25519 private key in PEM (PKCS#8). */
export function generateSigningKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** The CLI's key file when RAG_LEDGER_SIGNING_KEY_FILE does not name one. */
export function defaultKeyFile(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'rag-ledger', 'signing-key.pem');
}

/**
 * The CLI's signer: the PEM in RAG_LEDGER_SIGNING_KEY, else the key file named by
 * RAG_LEDGER_SIGNING_KEY_FILE (which must exist), else the default key file if it exists; null
 * when none is configured (nothing is signed). A key file readable or writable by others is refused.
 */
export function cliSigner(env: NodeJS.ProcessEnv): HeadSigner | null {
  const inline = env.RAG_LEDGER_SIGNING_KEY;
  if (inline) return signerFromPem(inline, 'RAG_LEDGER_SIGNING_KEY');
  const named = env.RAG_LEDGER_SIGNING_KEY_FILE;
  const file = named || defaultKeyFile(env);
  if (!existsSync(file)) {
    if (named) throw new SigningKeyError(`the signing key file ${file} (RAG_LEDGER_SIGNING_KEY_FILE) does not exist`, 'Create it with `openssl genpkey -algorithm ed25519 -out FILE && chmod 600 FILE`, or unset the variable.');
    return null;
  }
  const mode = statSync(file).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new SigningKeyError(`the signing key file ${file} is accessible by others (mode ${mode.toString(8).padStart(4, '0')}); it was not used`, `Run \`chmod 600 ${file}\`.`);
  }
  return signerFromPem(readFileSync(file, 'utf8'), file);
}

/** Where the extension keeps its private key: VS Code's SecretStorage has this shape. */
export interface SecretKeyStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
}

/** The secret's name (not a contributed setting: it lives in VS Code's secret storage). */
export const SECRET_KEY_NAME = 'rag-ledger-signing-key';

/** The extension's signer: the key kept in secret storage, created there on first use. */
export async function secretStoreSigner(secrets: SecretKeyStore): Promise<HeadSigner> {
  let pem = await secrets.get(SECRET_KEY_NAME);
  if (!pem) {
    pem = generateSigningKeyPem();
    await secrets.store(SECRET_KEY_NAME, pem);
  }
  return signerFromPem(pem, 'the secret storage');
}

let defaultSigner: (() => HeadSigner | null) | null = null;
let defaultSkipped: ((reason: string) => void) | undefined;

/**
 * Sets how stores opened for writing without a `headSigner` option find their signer (the CLI
 * and the extension set it once at start-up). Called when a writer opens, so a bad key fails first.
 */
export function setDefaultHeadSigner(provider: (() => HeadSigner | null) | null, onSealSkipped?: (reason: string) => void): void {
  defaultSigner = provider;
  defaultSkipped = onSealSkipped;
}

/** Told when a store using the default signer could not seal (the log is signed with another key). */
export function defaultSealSkipped(reason: string): void {
  defaultSkipped?.(reason);
}

export function defaultHeadSigner(): HeadSigner | null {
  return defaultSigner ? defaultSigner() : null;
}
