import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';

/** Reads a propagator's fields from request metadata. */
export const metadataGetter: TextMapGetter<ReadonlyMap<string, string>> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key),
};

/** Writes a propagator's fields into metadata (a Map: a record would take `__proto__` for its prototype). */
export const metadataSetter: TextMapSetter<Map<string, string>> = {
  set: (carrier, key, value) => {
    carrier.set(key, value);
  },
};
