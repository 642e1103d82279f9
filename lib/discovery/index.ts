// Contracts
export type { Discovery, DiscoveryState } from './discovery.js';
// Filters
export { inGroup, isActive } from './instance-filters.js';
// In-process registry
export type { MemoryDiscoveryOptions, MemoryRegistry } from './memory-registry.js';
export { memoryRegistry } from './memory-registry.js';
// Metadata in URL query format
export { formatMetadata, parseMetadata } from './metadata-query.js';
export type { MultipleServersDiscovery, ServerPair } from './multiple-servers-discovery.js';
export { multipleServersDiscovery } from './multiple-servers-discovery.js';
// Discoveries
export { p2pDiscovery } from './p2p-discovery.js';
export { sameInstances } from './same-instances.js';
export type { ServiceInstance } from './service-instance.js';
export type { ServiceRegistry } from './service-registry.js';
export type { UsableInstancesOptions } from './usable-instances.js';
export { usableInstances } from './usable-instances.js';
