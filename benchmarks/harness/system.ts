import type { WorkloadName } from '../workloads/workload.js';

/**
 * A system under test: phobos, grpc-js, http (node:http + undici), raw-tcp.
 *
 * Server side: `benchmarks/systems/<name>/server.ts`, run as its own process with
 * `node --import tsx benchmarks/systems/<name>/server.ts <workload>`; it prints one JSON line
 * `{"address": "..."}` once listening; on the stdin line `stats` it prints one JSON line
 * {@link ProcessStats}; it exits when stdin closes.
 *
 * Client side: `benchmarks/systems/<name>/client.ts` exports `createClient` (this type), loaded
 * by the client runner process.
 */
export type CreateClient = (address: string, workload: WorkloadName) => Promise<BenchClient>;

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

/** The systems, in report order. */
export const SYSTEMS = ['phobos', 'grpc-js', 'http', 'raw-tcp'] as const;
/** A system's name. */
export type SystemName = (typeof SYSTEMS)[number];
