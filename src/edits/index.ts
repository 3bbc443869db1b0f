// Edit requests: decoding and validating what callers send.
export { decodeDataUri } from "./data-uri.ts";
export { decoder, inspectImage, MIN_IMAGE_SIDE, type SourceImage } from "./image-input.ts";
export { decodeFailure, findDamage } from "./integrity.ts";
export { normaliseMask, type EditMask, type MaskPolarity } from "./mask.ts";
export { CONTENT_TYPES, sniffImageFormat, type ImageFormat } from "./sniff.ts";
export {
  MAX_N,
  MAX_PROMPT_CHARS,
  outputSize,
  validateEdit,
  type EditRequest,
  type RawEdit,
  type RawImage,
  type ValidateOptions,
} from "./validate.ts";
export {
  BACKGROUNDS,
  checkOptions,
  INPUT_FIDELITIES,
  MAX_USER_CHARS,
  OUTPUT_FORMATS,
  QUALITIES,
  RESPONSE_FORMATS,
  type EditOptions,
  type ResponseFormat,
} from "./options.ts";
export { createSlots, decodeSlots, type Slots } from "./slots.ts";
