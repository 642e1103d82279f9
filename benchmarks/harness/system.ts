import type { WorkloadName } from '../workloads/workload.js';

/**
 * A system under test: phobos, grpc-js, http (node:http + a pipelining undici Client), http-pool
 * (the same server, an undici Pool), raw-tcp on the RPC workloads;
 * gateway (phobos's HTTP gateway in front of a phobos server in another process), server-http (a
 * phobos server answering HTTP on its own port, in process) and http-bare (node:http answering
 * itself) on greet-json.
 *
 * Server side: `benchmarks/systems/<name>/server.ts`, run as its own process with
 * `node --import tsx benchmarks/systems/<name>/server.ts <workload>`; it prints one JSON line
 * `{"address": "..."}` once listening; on the stdin line `stats` it prints one JSON line
 * {@link ProcessStats}; it exits when stdin closes.
 *
 * Client side: `benchmarks/systems/<name>/client.ts` exports `createClient` (this type), loaded
 * by the client runner process. `W` is the workloads the system serves.
 */
export type CreateClient<W extends WorkloadName = WorkloadName> = (
  address: string,
  workload: W,
) => Promise<BenchClient>;

/** One client connection of a system, for one workload. */
export interface BenchClient {
  /** Makes one call with the workload's payload and checks the reply (throws if it is wrong). */
  call(): Promise<void>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** CPU and memory of a process, from process.cpuUsage() and process.resourceUsage(). */
export interface ProcessStats {
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  readonly maxRssKb: number;
}

/** The systems compared on the RPC workloads (message1, echo64, big256k, big256k-gzip), in report order. */
export const RPC_SYSTEMS = ['phobos', 'grpc-js', 'http', 'http-pool', 'raw-tcp'] as const;
/** The systems compared on greet-json, in report order: the two gateway paths, then their baseline. */
export const GATEWAY_SYSTEMS = ['gateway', 'server-http', 'http-bare'] as const;
/** The systems, in report order. */
export const SYSTEMS = [...RPC_SYSTEMS, ...GATEWAY_SYSTEMS] as const;
/** A system's name. */
export type SystemName = (typeof SYSTEMS)[number];

/**
 * The systems that serve a workload, in report order: the gateway comparison's for greet-json,
 * the RPC systems for the others.
 *
 * @example
 * ```ts
 * systemsFor('greet-json'); // ['gateway', 'server-http', 'http-bare']
 * ```
 */
export function systemsFor(workload: WorkloadName): readonly SystemName[] {
  return workload === 'greet-json' ? GATEWAY_SYSTEMS : RPC_SYSTEMS;
}
