/** The workloads every system runs, with the same payload bytes. */
export type WorkloadName = 'message1' | 'echo64' | 'big256k' | 'big256k-gzip';

/** All workloads, in report order. */
export const WORKLOADS: readonly WorkloadName[] = ['message1', 'echo64', 'big256k', 'big256k-gzip'];

/** What each workload is, for the report. */
export const WORKLOAD_DESCRIPTIONS: Readonly<Record<WorkloadName, string>> = {
  message1:
    "rpcx benchmark call: Hello.Say with Google's benchmark message 1 (proto2, ~581 bytes); the server sets field1 and field2 and returns it",
  echo64: 'a 64-byte MsgPack echo (framework overhead dominates)',
  big256k: 'a 256 KiB payload echo, no compression',
  'big256k-gzip': 'a 256 KiB payload echo, gzip on',
};
