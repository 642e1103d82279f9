import { existsSync } from 'node:fs';
import type { CreateClient, SystemName } from './system.js';

/** Path of a system's file (`server.ts` or `client.ts`) under `benchmarks/systems/`. */
export function systemFile(system: SystemName, file: 'server.ts' | 'client.ts'): string {
  return new URL(`../systems/${system}/${file}`, import.meta.url).pathname;
}

/** Whether both files of a system exist (a peer written elsewhere may not be there yet). */
export function systemExists(system: SystemName): boolean {
  return existsSync(systemFile(system, 'server.ts')) && existsSync(systemFile(system, 'client.ts'));
}

/**
 * Imports a system's `createClient`.
 *
 * @throws TypeError when the module exports no `createClient` function.
 */
export async function loadSystemClient(system: SystemName): Promise<CreateClient> {
  const module = (await import(systemFile(system, 'client.ts'))) as { createClient?: unknown };
  if (typeof module.createClient !== 'function')
    throw new TypeError(`benchmarks/systems/${system}/client.ts exports no createClient function`);
  return module.createClient as CreateClient;
}
