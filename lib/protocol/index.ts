export type { Dialect, ServerErrorCode } from './constants.js';
export {
  CANCEL_METHOD,
  CANCEL_SERVICE_PATH,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_METADATA_BYTES,
  DEFAULT_MAX_METADATA_ENTRIES,
  dialectOfMagic,
  FRAME_PREFIX_BYTES,
  MAGIC_PHOBOS,
  MAGIC_RPCX,
  MessageStatus,
  MessageType,
  MetadataKey,
  PHOBOS,
  PROTOCOL_VERSION,
  RPCX,
} from './constants.js';
export type { FrameDecoderOptions, FrameLimits } from './decoder.js';
export { decodeFrame, FrameDecoder } from './decoder.js';
export { encodeFrame, encodeMessage, metadataByteLength } from './encode.js';
export { HEADER_BYTES, Header } from './header.js';
export type { Message, Metadata } from './message.js';
export { EMPTY_METADATA, EMPTY_PAYLOAD } from './message.js';
