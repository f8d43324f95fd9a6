// An Ollama-protocol HTTP server on 127.0.0.1 for tests: the real `ollama` client talks to it.
// The model name picks the behaviour: "good" streams an answer, "missing" is not pulled,
// "cutoff" ends the stream before done, "slow" waits before the first token, "crash" drops the
// connection mid-answer, "endless" streams tokens as fast as it can forever without done, "trickle"
// sends one token every `trickleMs` forever (never idle long enough for a per-token timeout), "longline"
// streams one JSON line that never ends (a client that gathers whole lines would fill memory), "phantom" cites a passage that does not exist ([1] and [42]). A question containing the word "slowly" makes any model wait like "slow"
// (tests that cannot change the model, such as the ones driving VS Code, use it to cancel an answer);
// one containing the word "markup" is answered with HOSTILE_ANSWER (markup that must stay text), one
// containing "phantom" like the "phantom" model.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly { readonly role: string; readonly content: string }[];
  readonly stream?: boolean;
  readonly options?: { readonly num_ctx?: number };
}

export interface OllamaTestServer {
  readonly host: string;
  readonly chats: ChatRequest[];
  close(): Promise<void>;
}

export const GOOD_ANSWER = ['Threads ', 'send ', 'messages ', 'over ', 'a channel ', '[1].'];
/** Markup an answer may carry: rendered anywhere, it must show as text and run nothing. */
/** The "phantom" model's answer: [42] matches no passage. */
export const PHANTOM_ANSWER = ['Threads ', 'send messages ', '[1]', ' and keep secrets ', '[42].'];
/** Markup an answer may carry: rendered anywhere, it must show as text and run nothing. */
export const HOSTILE_ANSWER = ['Beware ', '<img src=x onerror="document.title=\'pwned\'">', ' and ', '<script>document.title="pwned"</script>', ' [1].'];

const line = (res: ServerResponse, o: unknown): boolean => res.write(`${JSON.stringify(o)}\n`);
/** Waits until `res` can take more or the client hung up, leaving no listener behind either way. */
function drainedOrGone(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.once('drain', done).once('close', done);
  });
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function chat(req: ChatRequest, res: ServerResponse, slowMs: number, trickleMs: number): Promise<void> {
  const part = (content: string, done = false, extra = {}): unknown => ({ model: req.model, created_at: new Date().toISOString(), message: { role: 'assistant', content }, done, ...extra });
  if (req.model === 'missing') {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `model "${req.model}" not found, try pulling it first` }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  if (req.model === 'longline') {
    let gone = false;
    res.on('close', () => (gone = true));
    res.write(`{"model":"longline","message":{"role":"assistant","content":"`);
    const chunk = 'x'.repeat(65_536);
    while (!gone) {
      if (!res.write(chunk)) await drainedOrGone(res);
    }
    return;
  }
  if (req.model === 'endless' || req.model === 'trickle') {
    // Until the client hangs up: a model that never says done.
    let gone = false;
    res.on('close', () => (gone = true));
    for (let i = 0; !gone; i++) {
      const more = line(res, part(`word${i} `));
      if (req.model === 'trickle') await sleep(trickleMs);
      else if (!more) await drainedOrGone(res);
      else if (i % 64 === 0) await new Promise<void>((r) => setImmediate(r));
    }
    return;
  }
  const question = req.messages.at(-1)?.content ?? '';
  if (req.model === 'slow' || /\bslowly\b/.test(question)) await sleep(slowMs);
  const words = /\bmarkup\b/.test(question) ? HOSTILE_ANSWER : req.model === 'phantom' || /\bphantom\b/.test(question) ? PHANTOM_ANSWER : req.model === 'good' || req.model === 'slow' ? GOOD_ANSWER : GOOD_ANSWER.slice(0, 2);
  for (const w of words) {
    line(res, part(w));
    await sleep(5);
  }
  if (req.model === 'cutoff') return void res.end();
  if (req.model === 'crash') return void res.socket?.destroy();
  line(res, part('', true, { done_reason: 'stop', prompt_eval_count: 120, eval_count: words.length, total_duration: 1_000_000 }));
  res.end();
}

export async function startOllamaServer(options: { slowMs?: number; trickleMs?: number } = {}): Promise<OllamaTestServer> {
  const chats: ChatRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const json = (body ? JSON.parse(body) : {}) as ChatRequest;
      if (req.url === '/api/chat') {
        chats.push(json);
        void chat(json, res, options.slowMs ?? 2000, options.trickleMs ?? 200);
        return;
      }
      if (req.url === '/api/tags') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ models: [{ name: 'good', model: 'good', size: 1, digest: 'x', details: {} }] }));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not found' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `http://127.0.0.1:${port}`,
    chats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP server that is not Ollama: every request gets an HTML 404 page (a web server on the wrong port). */
export async function startHtmlServer(): Promise<{ readonly host: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
