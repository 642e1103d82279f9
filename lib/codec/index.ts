// Codec contract and serialize types
export type { Codec, CodecHint } from './codec.js';
export { SerializeType } from './codec.js';
// Registry
export { CodecRegistry, createDefaultCodecs } from './codec-registry.js';
// Built-in codecs
export { jsonCodec } from './json-codec.js';
export type { MsgpackCodecOptions } from './msgpack-codec.js';
export { createMsgpackCodec, msgpackCodec } from './msgpack-codec.js';
export { protobufCodec } from './protobuf-codec.js';
export { rawCodec } from './raw-codec.js';
