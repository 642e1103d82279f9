// The grpc-js client of one workload: one channel (one HTTP/2 connection) per client.
import { credentials, type ServiceClientConstructor } from '@grpc/grpc-js';
import type { BenchClient, CreateClient } from '../../harness/system.js';
import { phobos } from '../../lib/phobos.js';
import {
  BIG_PAYLOAD_BYTES,
  big256kPayload,
  type Echo64Payload,
  echo64Payload,
  loadMessage1,
  type RpcWorkloadName,
  type WorkloadName,
} from '../../workloads/index.js';
import {
  type BytesMessage,
  type EchoClient,
  grpcOptions,
  type HelloClient,
  loadServices,
} from './services.js';

const { msgpackCodec } = phobos;

const CONNECT_TIMEOUT_MS = 10_000;

/** Connects a client of `service`; its own subchannel pool keeps two clients off one connection. */
async function connect<T>(
  service: ServiceClientConstructor,
  address: string,
  workload: WorkloadName,
): Promise<T> {
  const client = new service(address, credentials.createInsecure(), {
    ...grpcOptions(workload),
    'grpc.use_local_subchannel_pool': 1,
  });
  await new Promise<void>((resolve, reject) => {
    client.waitForReady(Date.now() + CONNECT_TIMEOUT_MS, (error) => (error ? reject(error) : resolve()));
  });
  return client as unknown as T;
}

function unary<Request, Reply>(
  send: (request: Request, callback: (error: Error | null, reply?: Reply) => void) => unknown,
  request: Request,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    send(request, (error, reply) => {
      if (error) reject(error);
      else if (reply === undefined) reject(new Error('grpc-js: no reply'));
      else resolve(reply);
    });
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/**
 * Opens one grpc-js channel to `address` (as `127.0.0.1:port`) and waits until it is connected.
 * `call()` makes one unary call and checks the reply: message1 `Hello.Say` with the 581-byte
 * BenchmarkMessage (field1 must come back `'OK'`); echo64 `Echo.Echo` with the MsgPack-encoded
 * payload (encoded per call, and the reply decoded and compared, as users would); big256k and
 * big256k-gzip `Echo.Echo` with the 256 KiB payload (the reply must be the same bytes).
 */
export const createClient: CreateClient<RpcWorkloadName> = async (
  address,
  workload,
): Promise<BenchClient> => {
  const { Hello, Echo } = loadServices();
  if (workload === 'message1') {
    const client = await connect<HelloClient>(Hello, address, workload);
    const { payload } = loadMessage1();
    const say = client.Say.bind(client);
    return {
      async call() {
        const reply = await unary(say, payload);
        if (reply.field1 !== 'OK') throw new Error(`grpc-js message1: field1 is ${String(reply.field1)}`);
      },
      async close() {
        client.close();
      },
    };
  }
  const client = await connect<EchoClient>(Echo, address, workload);
  const echo = client.Echo.bind(client);
  const close = async (): Promise<void> => client.close();
  if (workload === 'echo64') {
    return {
      async call() {
        const reply = await unary<BytesMessage, BytesMessage>(echo, {
          data: msgpackCodec.encode(echo64Payload),
        });
        const decoded = msgpackCodec.decode(reply.data) as Partial<Echo64Payload> | undefined;
        if (decoded?.s !== echo64Payload.s) throw new Error('grpc-js echo64: the reply differs');
      },
      close,
    };
  }
  return {
    async call() {
      const reply = await unary<BytesMessage, BytesMessage>(echo, { data: big256kPayload });
      if (reply.data.length !== BIG_PAYLOAD_BYTES || !sameBytes(reply.data, big256kPayload)) {
        throw new Error(`grpc-js ${workload}: the reply differs (${reply.data.length} bytes)`);
      }
    },
    close,
  };
};
