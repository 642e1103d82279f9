// Streams against unary calls, in the same run: values/s of one stream of 64-byte MsgPack values
// (an async generator on the server, pulled one value per credit; the client reads with
// `Client.stream$` and a credit window) against calls/s of echo64 unary calls (`Client.call`,
// N in flight), each mode in its own server and client processes, started the same way, the
// modes alternating round by round. Prints each round and the medians, and the ratio the issue
// asks for: stream values/s over unary calls/s.
//   npm run build && npx tsx benchmarks/streams.ts [--seconds 3] [--rounds 3] [--in-flight 100]
//     [--window 256] [--streams 1]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'parent' },
    mode: { type: 'string', default: 'unary' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    'in-flight': { type: 'string', default: '100' },
    window: { type: 'string', default: '256' },
    streams: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const inFlight = Number(values['in-flight']);
const window = Number(values.window);
const streams = Number(values.streams);
for (const [name, value] of Object.entries({ seconds, rounds, inFlight, window, streams }))
  if (!(value > 0)) throw new RangeError(`--${name} must be a positive number`);

if (values.role === 'server') await runServer();
else if (values.role === 'client') await runClient(values.mode === 'stream' ? 'stream' : 'unary');
else await compare();

/** The parent: each round runs both modes, each in a fresh server and client. */
async function compare(): Promise<void> {
  console.log(
    `echo64 unary (Client.call, ${inFlight} in flight) vs stream (Client.stream$, ${streams} stream(s), window ${window}), ${seconds} s per run, node ${process.version}`,
  );
  const results: Record<'unary' | 'stream', number[]> = { unary: [], stream: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const mode of ['unary', 'stream'] as const) {
      const perSecond = await run(mode);
      results[mode].push(perSecond);
      console.log(
        `${mode.padEnd(6)} ${perSecond.toLocaleString('en-US').padStart(9)} ${mode === 'unary' ? 'calls' : 'values'}/s`,
      );
    }
  }
  const median = (list: number[]): number =>
    [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? 0;
  const unary = median(results.unary);
  const stream = median(results.stream);
  console.log(
    `median: unary ${unary.toLocaleString('en-US')} calls/s, stream ${stream.toLocaleString('en-US')} values/s, stream/unary ${(stream / unary).toFixed(2)}`,
  );
}

/** One run: its own server, its own client. */
async function run(mode: 'unary' | 'stream'): Promise<number> {
  const script = 'benchmarks/streams.ts';
  const server = spawn(process.execPath, ['--import', 'tsx', script, '--role', 'server'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const serverLines = createInterface({ input: server.stdout });
  const address = await new Promise<string>((done) => serverLines.once('line', done));
  const client = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      script,
      ...['--role', 'client', '--mode', mode, '--seconds', String(seconds)],
      ...['--in-flight', String(inFlight), '--window', String(window), '--streams', String(streams)],
    ],
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PHOBOS_ADDRESS: address } },
  );
  const clientLines = createInterface({ input: client.stdout });
  const result = JSON.parse(await new Promise<string>((done) => clientLines.once('line', done))) as {
    count: number;
    elapsedMs: number;
  };
  client.stdin.end();
  server.stdin.end();
  await new Promise((done) => server.once('exit', done));
  return Math.round(result.count / (result.elapsedMs / 1_000));
}

async function runServer(): Promise<void> {
  const { phobos } = await import('./lib/phobos.js');
  const server = new phobos.Server({ logger: phobos.silentLogger });
  server.register('Echo', {
    Echo(args: unknown) {
      return args;
    },
    async *Stream(args: unknown) {
      for (;;) yield args;
    },
  });
  const address = await server.listen('tcp@127.0.0.1:0');
  process.stdout.write(`${address}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.shutdown({ graceMs: 0 }).then(() => process.exit(0)));
}

/** The child: warms up for a second, then counts replies (or values) for `seconds`. */
async function runClient(mode: 'unary' | 'stream'): Promise<void> {
  const { phobos } = await import('./lib/phobos.js');
  const { echo64Payload } = await import('./workloads/index.js');
  const client = new phobos.Client(process.env.PHOBOS_ADDRESS ?? '', {
    serializeType: phobos.SerializeType.MsgPack,
  });
  let count = 0;
  let stop = false;
  const subscriptions: { unsubscribe(): void }[] = [];
  if (mode === 'unary') {
    for (let lane = 0; lane < inFlight; lane++) {
      // A call still in flight when the client closes fails: that is the end of the lane.
      (async () => {
        while (!stop) {
          await client.call('Echo', 'Echo', echo64Payload);
          count += 1;
        }
      })().catch(() => {});
    }
  } else {
    for (let i = 0; i < streams; i++)
      subscriptions.push(
        client.stream$('Echo', 'Stream', echo64Payload, { window }).subscribe(() => {
          count += 1;
        }),
      );
  }
  await new Promise((done) => setTimeout(done, 1_000));
  count = 0;
  const startedAt = performance.now();
  await new Promise((done) => setTimeout(done, seconds * 1_000));
  const measured = count;
  const elapsedMs = performance.now() - startedAt;
  stop = true;
  for (const subscription of subscriptions) subscription.unsubscribe();
  process.stdout.write(`${JSON.stringify({ count: measured, elapsedMs })}\n`);
  await client.close().catch(() => {});
  process.exit(0);
}
