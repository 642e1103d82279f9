/** The workloads phobos, grpc-js, http and raw-tcp run, with the same payload bytes. */
export type RpcWorkloadName = 'message1' | 'echo64' | 'big256k' | 'big256k-gzip';
/** The workload of the gateway comparison: JSON over HTTP, through the gateway or answered directly. */
export type GatewayWorkloadName = 'greet-json';
/** Every workload. */
export type WorkloadName = RpcWorkloadName | GatewayWorkloadName;

/** The RPC workloads, in report order. */
export const RPC_WORKLOADS: readonly RpcWorkloadName[] = ['message1', 'echo64', 'big256k', 'big256k-gzip'];
/** The gateway comparison's workloads. */
export const GATEWAY_WORKLOADS: readonly GatewayWorkloadName[] = ['greet-json'];
/** All workloads, in report order. */
export const WORKLOADS: readonly WorkloadName[] = [...RPC_WORKLOADS, ...GATEWAY_WORKLOADS];

/** What each workload is, for the report. */
export const WORKLOAD_DESCRIPTIONS: Readonly<Record<WorkloadName, string>> = {
  message1:
    "rpcx benchmark call: Hello.Say with Google's benchmark message 1 (proto2, ~581 bytes); the server sets field1 and field2 and returns it",
  echo64: 'a 64-byte MsgPack echo (framework overhead dominates)',
  big256k: 'a 256 KiB payload echo, no compression',
  'big256k-gzip': 'a 256 KiB payload echo, gzip on',
  'greet-json':
    '`POST /HelloWorld/Greet` with the JSON body `{"First":"budei"}`, answered 200 `{"Second":"Hello budei"}`',
};

/**
 * Whether a workload is one of the RPC workloads (not the gateway comparison's).
 *
 * @example
 * ```ts
 * isRpcWorkload('echo64'); // true
 * isRpcWorkload('greet-json'); // false
 * ```
 */
export function isRpcWorkload(workload: WorkloadName): workload is RpcWorkloadName {
  return (RPC_WORKLOADS as readonly WorkloadName[]).includes(workload);
}
