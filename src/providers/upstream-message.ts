// What of an upstream's failure a caller may read: its status, its error code and
// a short message with no markup, keys, file paths, hosts, addresses or URLs.
// The raw detail goes only to the log, cut to a few KB and without keys.

import { describe, redact } from "./upstream.ts";

/** Characters of the upstream's own words kept in a caller's message (the whole message stays under ~300). */
export const UPSTREAM_WORDS_CHARS = 200;

/** Characters of raw upstream detail kept for the log (pino writes them twice: message and stack). */
export const LOG_DETAIL_CHARS = 2_000;

const REDACTED = "[redacted]";

/** Patterns for what must not reach a caller, in the order they are removed (URLs hold hosts and paths). */
const INTERNALS: RegExp[] = [
  // URLs of any scheme.
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]+/gi,
  // Windows and UNC paths.
  /\b[a-z]:\\[^\s"'<>]*/gi,
  /\\\\[^\s"'<>]+/g,
  // Unix paths: a slash not inside a word ("image/png" stays), then one or more segments.
  /(?<![\w.:/-])(?:~|\.{1,2})?(?:\/[\w.@+-]+)+\/?/g,
  // IPv4, with a port.
  /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g,
  // IPv6: four or more groups, or the compressed form with "::".
  /(?<![\w:])\[?(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\]?(?::\d+)?(?![\w:])/gi,
  /(?<![\w:])\[?(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?\]?(?::\d+)?(?![\w:])/gi,
  // host:port, and localhost.
  /\b[a-z][\w.-]*:\d{2,5}\b/gi,
  /\blocalhost\b/gi,
];

/** Host names: dotted labels ending in letters. Image file names ("mask.png") are let through. */
const HOSTNAME = /\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63})\b/gi;
const FILE_EXTENSIONS = new Set(["png", "jpg", "jpeg", "webp", "gif"]);

/**
 * The upstream's words as a caller may read them: keys, URLs, paths, addresses
 * and host names replaced by "[redacted]", whitespace collapsed, at most `maxChars`.
 *
 * @example
 * scrub("connect ECONNREFUSED 10.1.2.3:443", "") // "connect ECONNREFUSED [redacted]"
 */
export function scrub(text: string, secret: string, maxChars = UPSTREAM_WORDS_CHARS): string {
  let clean = redact(text, secret);
  for (const pattern of INTERNALS) clean = clean.replace(pattern, REDACTED);
  clean = clean.replace(HOSTNAME, (host, last: string) => (FILE_EXTENSIONS.has(last.toLowerCase()) ? host : REDACTED));
  clean = clean.replace(/\s+/g, " ").trim();
  return clean.length > maxChars ? `${clean.slice(0, maxChars - 1).trimEnd()}…` : clean;
}

/** An HTTP error answer, as the adapter read it from the SDK's error. */
export interface UpstreamAnswer {
  status: number;
  /** The provider's error code or type ("insufficient_quota", "UNAVAILABLE"). */
  code?: string;
  /** The provider's own message from its JSON error envelope. */
  message?: string;
  /** False when the body was not JSON (an HTML page, a proxy's text): nothing of it is shown. */
  json: boolean;
}

export interface Summary {
  /** "OpenAI answered 503 (server_error): Service unavailable." — status, code and the upstream's words. */
  summary: string;
  /** The upstream's words alone, scrubbed; undefined when there are none fit to show. */
  words?: string;
}

/**
 * What a caller reads of an upstream's error answer. `who` names the upstream
 * as its answers are described ("OpenAI", "Gemini").
 *
 * @example
 * summarise("OpenAI", { status: 502, json: false }, key).summary // "OpenAI answered 502 with a non-JSON body"
 */
export function summarise(who: string, answer: UpstreamAnswer, secret: string): Summary {
  const answered = `${who} answered ${answer.status}`;
  if (!answer.json) return { summary: `${answered} with a non-JSON body` };
  const code = answer.code?.replace(/[^\w.-]/g, "").slice(0, 40);
  const head = code ? `${answered} (${code})` : answered;
  const message = answer.message?.trim();
  if (!message) return { summary: `${head} without an error message` };
  if (/<\/?[a-z!][^>]*>/i.test(message)) return { summary: `${head} with an error message in HTML` };
  const words = scrub(message, secret);
  return { summary: `${head}: ${words}`, words };
}

/**
 * A failure that is not an HTTP answer (a lost connection, an unreadable body),
 * as a caller may read it: "Connection error: connect ECONNREFUSED [redacted]".
 */
export function summariseFailure(who: string, error: unknown, secret: string): string {
  // JSON.parse quotes the start of what it could not parse: none of it is shown.
  if (error instanceof SyntaxError) return `${who} answered with a body that is not valid JSON`;
  return scrub(describe(error), secret);
}

/** The raw detail for the log (through a RetouchError's cause): keys removed, a few KB at most. */
export function logDetail(text: string, secret: string): Error {
  const detail = redact(text, secret);
  return new Error(detail.length > LOG_DETAIL_CHARS ? `${detail.slice(0, LOG_DETAIL_CHARS)}… (${detail.length} characters)` : detail);
}
