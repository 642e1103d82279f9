// The phobos client of every workload: one connection (the promise `Client` facade), the payload
// of the workload, the reply checked. `createPhobosClient` also takes options to add to the
// client's (benchmarks/mixed-payloads.ts sets `offloadThresholdBytes` with it).
import type { BenchClient, CreateClient } from '../../harness/system.js';
import { phobos } from '../../lib/phobos.js';
import {
  type BenchmarkMessage,
  BIG_PAYLOAD_BYTES,
  big256kPayload,
  type Echo64Payload,
  echo64Payload,
  loadMessage1,
  type RpcWorkloadName,
} from '../../workloads/index.js';

const { Client, SerializeType } = phobos;

/** Options a benchmark adds to every workload's client options. */
export interface ExtraClientOptions {
  /** The client's `offloadThresholdBytes`: gzip payloads larger than this off the event loop. */
  readonly offloadThresholdBytes?: number;
}

/** A phobos `Client` (one connection) calling the workload's method on `address`. */
export const createClient: CreateClient<RpcWorkloadName> = (address, workload) =>
  createPhobosClient(address, workload);

/** {@link createClient} with `extra` added to the client's options. */
export async function createPhobosClient(
  address: string,
  workload: RpcWorkloadName,
  extra: ExtraClientOptions = {},
): Promise<BenchClient> {
  switch (workload) {
    case 'message1': {
      const { type, payload } = loadMessage1();
      const client = new Client(address, {
        ...extra,
        serializeType: SerializeType.Protobuf,
        protobuf: { 'Hello.Say': { requestType: type, replyType: type } },
      });
      return bench(client, async () => {
        const reply = await client.call<BenchmarkMessage>('Hello', 'Say', payload);
        if (reply.field1 !== 'OK' || reply.field2 !== 100) throw new Error('message1: wrong reply');
      });
    }
    case 'echo64': {
      const client = new Client(address, { ...extra, serializeType: SerializeType.MsgPack });
      return bench(client, async () => {
        const reply = await client.call<Echo64Payload>('Echo', 'Echo', echo64Payload);
        if (reply.s !== echo64Payload.s) throw new Error('echo64: wrong reply');
      });
    }
    case 'big256k':
    case 'big256k-gzip': {
      const client = new Client(address, {
        ...extra,
        serializeType: SerializeType.Raw,
        compress: workload === 'big256k-gzip',
      });
      return bench(client, async () => {
        const reply = await client.call<Uint8Array>('Echo', 'Echo', big256kPayload);
        if (reply.length !== BIG_PAYLOAD_BYTES) throw new Error(`${workload}: wrong reply`);
      });
    }
  }
}

async function bench(client: InstanceType<typeof Client>, call: () => Promise<void>): Promise<BenchClient> {
  // Connect before the clock starts.
  await call();
  return { call, close: () => client.close() };
}
