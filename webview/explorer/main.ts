// The event-log explorer's entry point. Runs in a webview under a strict CSP (scripts by nonce only,
// no network): everything from the log is rendered through lit's text bindings, never as HTML.
import './app.js';
import './timeline.js';
import './replay.js';
import './compare.js';
import './documentHistory.js';

// Every module evaluated (the shell has sent its first request): on the performance timeline for the benchmark.
performance.mark('rl:modules-evaluated');
