// One connection, 100 calls in flight, a 64-byte MsgPack payload, the server in another process.
//   npx tsx benchmarks/one-connection.ts [--seconds 10] [--in-flight 100] [--rounds 3]
import { parseArgs } from 'node:util';
import { closedLoop, formatResult } from './lib/load.js';
import { phobos } from './lib/phobos.js';
import { spawnServer } from './lib/spawn-server.js';

const { Client, msgpackCodec, SerializeType } = phobos;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    'in-flight': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
  },
});
const seconds = Number(values.seconds);
const inFlight = Number(values['in-flight']);
const rounds = Number(values.rounds);

// 64 bytes once MsgPack-encoded: a map with one 59-character string.
const payload = { s: 'x'.repeat(59) };
if (msgpackCodec.encode(payload).length !== 64) throw new Error('the payload is not 64 bytes');

const server = await spawnServer(['--import', 'tsx', new URL('./echo-server.ts', import.meta.url).pathname]);
const client = new Client(server.address, { serializeType: SerializeType.MsgPack });
try {
  console.log(
    `one connection, ${inFlight} in flight, 64-byte msgpack payload, ${seconds} s per round, node ${process.version}`,
  );
  for (let round = 1; round <= rounds; round++) {
    const result = await closedLoop(() => client.call('Echo', 'Echo', payload), {
      inFlight,
      seconds,
      warmupSeconds: 2,
    });
    console.log(formatResult(`phobos-ts round ${round}`, result));
  }
} finally {
  await client.close();
  await server.stop();
}
