import { parseArgs } from 'node:util';
import { parseFaultSpec, type QueuedFault } from './faults.js';
import type { FakeOllamaOptions } from './options.js';

/** Usage text printed by `fake-ollama --help`. */
export const USAGE = `Usage: fake-ollama [options]

An Ollama-compatible HTTP server with deterministic answers, for tests, demos and benchmarks.

Options:
  --port <n>                Port to listen on; 0 picks a free one (default 0)
  --host <addr>             Interface to bind (default 127.0.0.1)
  --models <a,b,...>        Comma-separated model names the server knows
                            (default qwen2.5:0.5b,llama3.2:latest,nomic-embed-text:latest)
  --latency-ms <ms>         Delay before the first byte of generate/chat/embed answers (default 0)
  --tokens-per-second <n>   Streaming pace; 0 = unpaced (default 0)
  --answer-tokens <n>       Words per answer when a request sets no num_predict (default 12)
  --pull-interval-ms <ms>   Delay between pull/push/create progress lines (default 60)
  --origins <a,b,...>       Allowed browser origins (default $OLLAMA_ORIGINS), besides
                            Ollama's built-in local ones
  --no-guards               Turn off the Host and Origin guards
  --fault <spec>            Queue a fault; repeatable. KIND[:ARG][,times=N|always][,route=/path]
                            KIND: status:CODE, midstream[:CHUNKS], truncate[:CHUNKS], hang,
                            slow:MS, reset. Also $FAKE_OLLAMA_FAULTS, specs separated by ";"
                            e.g. --fault status:503,times=2 --fault midstream:3,route=/api/chat
  --digest <model=hex>      Set a model's sha256 digest (64 hex characters); repeatable
  -h, --help                Show this help

While running, POST /__fake/faults, GET /__fake/counts and POST /__fake/models/<name>/digest
control the server (see the README).
`;

/** The outcome of parsing the command line. */
export type CliArgs =
  | { kind: 'help' }
  | { kind: 'run'; options: FakeOllamaOptions; faults: QueuedFault[]; digests: Array<[model: string, digest: string]> }
  | { kind: 'error'; message: string };

function number(flag: string, raw: string, check: (n: number) => boolean, want: string): number | string {
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  return check(n) ? n : `--${flag} must be ${want} (got "${raw}")`;
}

/** Parses `fake-ollama` arguments (without the node/script prefix) into server options, help, or an error naming the flag. */
export function parseCliArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): CliArgs {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        models: { type: 'string' },
        'latency-ms': { type: 'string' },
        'tokens-per-second': { type: 'string' },
        'answer-tokens': { type: 'string' },
        'pull-interval-ms': { type: 'string' },
        origins: { type: 'string' },
        'no-guards': { type: 'boolean' },
        fault: { type: 'string', multiple: true },
        digest: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  }
  if (values.help) return { kind: 'help' };

  const options: FakeOllamaOptions = {};
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);

  const port = str('port');
  if (port !== undefined) {
    const n = number('port', port, (x) => Number.isInteger(x) && x >= 0 && x <= 65535, 'an integer between 0 and 65535');
    if (typeof n === 'string') return { kind: 'error', message: n };
    options.port = n;
  }
  const host = str('host');
  if (host !== undefined) {
    if (host.trim() === '') return { kind: 'error', message: '--host must not be empty' };
    options.host = host.trim();
  }
  const models = str('models');
  if (models !== undefined) {
    const list = models.split(',').map((m) => m.trim());
    if (list.length === 0 || list.some((m) => m === '')) {
      return { kind: 'error', message: `--models must be a comma-separated list of model names (got "${models}")` };
    }
    options.models = list;
  }
  const latency = str('latency-ms');
  if (latency !== undefined) {
    const n = number('latency-ms', latency, (x) => Number.isFinite(x) && x >= 0, 'a number >= 0');
    if (typeof n === 'string') return { kind: 'error', message: n };
    options.latencyMs = n;
  }
  const tps = str('tokens-per-second');
  if (tps !== undefined) {
    const n = number('tokens-per-second', tps, (x) => !Number.isNaN(x) && x >= 0, 'a number >= 0');
    if (typeof n === 'string') return { kind: 'error', message: n };
    options.tokensPerSecond = n;
  }
  const answer = str('answer-tokens');
  if (answer !== undefined) {
    const n = number('answer-tokens', answer, (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1');
    if (typeof n === 'string') return { kind: 'error', message: n };
    options.answerTokens = n;
  }
  const pull = str('pull-interval-ms');
  if (pull !== undefined) {
    const n = number('pull-interval-ms', pull, (x) => Number.isFinite(x) && x >= 0, 'a number >= 0');
    if (typeof n === 'string') return { kind: 'error', message: n };
    options.pullIntervalMs = n;
  }
  const origins = str('origins');
  if (origins !== undefined)
    options.origins = origins
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
  if (values['no-guards'] === true) options.guards = false;

  const faults: QueuedFault[] = [];
  const specs = [
    ...(env.FAKE_OLLAMA_FAULTS ?? '')
      .split(';')
      .map((f) => f.trim())
      .filter(Boolean)
      .map((f) => ['FAKE_OLLAMA_FAULTS', f] as const),
    ...((values.fault as string[] | undefined) ?? []).map((f) => ['--fault', f] as const),
  ];
  for (const [source, spec] of specs) {
    try {
      faults.push(parseFaultSpec(spec));
    } catch (err) {
      return { kind: 'error', message: `${source}: ${(err as Error).message}` };
    }
  }
  const digests: Array<[string, string]> = [];
  for (const d of (values.digest as string[] | undefined) ?? []) {
    const at = d.lastIndexOf('=');
    const model = d.slice(0, at).trim();
    const hex = d.slice(at + 1).trim();
    if (at <= 0 || !/^(sha256[:-])?[0-9a-fA-F]{64}$/.test(hex)) {
      return { kind: 'error', message: `--digest must be MODEL=<64 hex characters> (got "${d}")` };
    }
    digests.push([model, hex]);
  }
  return { kind: 'run', options, faults, digests };
}
