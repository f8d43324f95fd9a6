import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = join(__dirname, '..', '..');

/** A helper script run in a child process (through tsx), talked to by lines on stdin and stdout. */
export class LineChild {
  private readonly lines: AsyncIterator<string>;
  private stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  protected constructor(readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  }

  /** Starts `script` (relative to the repository) with `args`. */
  protected static spawnScript(script: string, args: readonly string[]): ChildProcessWithoutNullStreams {
    return spawn(process.execPath, ['--import', 'tsx', join(root, script), ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The next line the child prints (20 s at most). */
  async next(): Promise<string> {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`lock holder timed out; stderr: ${this.stderr}`)), 20_000).unref());
    const r = await Promise.race([this.lines.next(), timeout]);
    if (r.done) throw new Error(`lock holder exited early; stderr: ${this.stderr}`);
    return r.value;
  }
}
