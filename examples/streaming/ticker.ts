// A ticker service streams prices; a client reads them at its own pace. The server could make
// prices as fast as the CPU allows, but it makes only what the client has room for: the stream's
// credit (its window) reaches across the wire, so the producer is never more than a window ahead
// of the reader, however slow the reader is. Then a second client throttles a stream with RxJS
// and leaves early, which cancels the producer on the server.
//   npx tsx examples/streaming/ticker.ts --count 20 --window 8
import { lastValueFrom, take, throttleTime, toArray } from 'rxjs';
import { type CallContext, Client, SerializeType, Server } from '../../lib/index.js';
import { defineCommand, integerFlag, readCommandLine } from '../lib/cli.js';

const COMMAND = defineCommand({
  name: 'streaming/ticker',
  run: 'npx tsx examples/streaming/ticker.ts',
  summary: [
    'Serves a ticker on a loopback port, reads COUNT prices from it through an async iterator',
    'with a credit window of WINDOW values (a slow reader), prints them, and checks that the',
    "server's producer never ran more than a window ahead; exits 1 if it did.",
  ].join('\n'),
  flags: {
    count: { type: 'string', value: 'N', default: '20', description: 'prices to read, 1 to 100000' },
    window: { type: 'string', value: 'N', default: '8', description: 'credit window, 1 to 1000' },
  },
  examples: ['npx tsx examples/streaming/ticker.ts --count 50 --window 4'],
});

const options = readCommandLine(COMMAND, (flags) => ({
  count: integerFlag('--count', flags.count, 1, 100_000),
  window: integerFlag('--window', flags.window, 1, 1_000),
}));

/** Prices made so far by the server, to show how far ahead of the reader it got. */
let made = 0;
let stopped = 0;

class Ticker {
  /** As many prices as the caller takes: an async generator is pulled one value per credit. */
  async *Prices(
    symbol: string,
    ctx: CallContext,
  ): AsyncGenerator<{ symbol: string; n: number; price: number }> {
    try {
      for (let n = 1; !ctx.signal.aborted; n++) {
        made++;
        yield { symbol, n, price: 100 + ((n * 37) % 23) / 4 };
      }
    } finally {
      stopped++;
    }
  }
}

if (options !== undefined) {
  const server = new Server();
  server.register('Ticker', new Ticker());
  const address = await server.listen('tcp@127.0.0.1:0');
  console.log(`ticker listening on ${address}`);
  const client = new Client(address, { serializeType: SerializeType.JSON });

  let read = 0;
  let ahead = 0;
  for await (const tick of client.stream<{ n: number; price: number }>('Ticker', 'Prices', 'ACME', {
    window: options.window,
  })) {
    read++;
    ahead = Math.max(ahead, made - read);
    console.log(`price ${tick.n}: ${tick.price.toFixed(2)}`);
    // A slow reader: the server waits for it rather than queueing prices.
    await new Promise((resolve) => setImmediate(resolve));
    if (read === options.count) break; // leaving the loop cancels the stream on the server
  }

  // The same stream as an Observable: throttled, and cut after three values.
  const throttled = await lastValueFrom(
    client.stream$<{ n: number }>('Ticker', 'Prices', 'ACME').pipe(throttleTime(5), take(3), toArray()),
  );
  console.log(`throttled: ${throttled.length} prices kept`);

  await client.close();
  await server.shutdown({ graceMs: 1_000 });
  if (ahead > options.window) {
    console.log(`FAILED: the producer ran ${ahead} prices ahead of the reader (window ${options.window})`);
    process.exitCode = 1;
  } else {
    console.log(
      `ok: read ${read} prices; the producer was never more than ${options.window} ahead of the reader; ${stopped} streams stopped on the server`,
    );
  }
}
