// What the grpc-js server and client share: the services from the .proto files and the options.
import { fileURLToPath } from 'node:url';
import {
  type ChannelOptions,
  type Client,
  type ClientUnaryCall,
  loadPackageDefinition,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { type BenchmarkMessage, WORKLOAD_PROTO_PATH, type WorkloadName } from '../../workloads/index.js';

/** Path of `echo.proto` (package `bench`, service `Echo`, message `Bytes`). */
export const ECHO_PROTO_PATH: string = fileURLToPath(new URL('./echo.proto', import.meta.url));

/** The largest message either side sends or accepts: 16 MiB, the Phobos default. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** `grpc.default_compression_algorithm` value for gzip (grpc's compression_algorithms enum). */
const GZIP = 2;

/** A unary call's callback. */
export type UnaryCallback<T> = (error: ServiceError | null, reply?: T) => void;

/** The `bench.Bytes` message as proto-loader objects hold it. */
export interface BytesMessage {
  readonly data: Uint8Array;
}

/** A `main.Hello` client. */
export interface HelloClient extends Client {
  Say(request: Readonly<BenchmarkMessage>, callback: UnaryCallback<BenchmarkMessage>): ClientUnaryCall;
}

/** A `bench.Echo` client. */
export interface EchoClient extends Client {
  Echo(request: BytesMessage, callback: UnaryCallback<BytesMessage>): ClientUnaryCall;
}

/** The client constructors of both services (their `service` is what a server adds). */
export interface Services {
  readonly Hello: ServiceClientConstructor;
  readonly Echo: ServiceClientConstructor;
}

let services: Services | undefined;

/**
 * Loads both services with @grpc/proto-loader (once). Messages decode as the Phobos protobuf
 * codec decodes them: `.proto` field names, defaults filled in, 64-bit integers as decimal
 * strings, enums by name, bytes as Buffers.
 */
export function loadServices(): Services {
  services ??= (() => {
    const definition = loadSync([WORKLOAD_PROTO_PATH, ECHO_PROTO_PATH], {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const loaded = loadPackageDefinition(definition) as unknown as {
      main: { Hello: ServiceClientConstructor };
      bench: { Echo: ServiceClientConstructor };
    };
    return { Hello: loaded.main.Hello, Echo: loaded.bench.Echo };
  })();
  return services;
}

/**
 * Options of the server and of each client channel for a workload, as a user tuning grpc-js for
 * unary throughput would set them: message size limits; retries off (`grpc.enable_retries: 0`:
 * grpc-js otherwise runs every call through its retry machinery, buffering the request, though
 * no retry policy is configured); a session memory bound high enough that many calls in flight
 * with large messages are not refused (`grpc-node.max_session_memory`, MiB, default 10); gzip
 * for big256k-gzip.
 *
 * grpc-js 1.14 compresses only what a client sends: its server reads gzip requests but always
 * answers uncompressed (`serializeMessage` writes the compressed flag 0), and it has no
 * compression level option (gzip runs at zlib's default, level 6). The server gets the option
 * anyway, for when grpc-js learns to use it.
 */
export function grpcOptions(workload: WorkloadName): ChannelOptions {
  return {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.enable_retries': 0,
    'grpc-node.max_session_memory': 1024,
    ...(workload === 'big256k-gzip' ? { 'grpc.default_compression_algorithm': GZIP } : {}),
  };
}
