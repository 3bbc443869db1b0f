// Refuses a JSON text shaped far outside any request this API takes, before
// JSON.parse and zod spend time building it: one linear pass over the text.

import { invalidRequest, type RetouchError } from "../errors.ts";

export interface JsonBounds {
  /** Arrays and objects inside one another; the body's own object is depth 1. */
  depth: number;
  /** Items of one array. */
  arrayItems: number;
  /** Values in the whole text, counted as the commas and opening brackets outside strings. */
  values: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Throws a 400 naming the first bound the text goes over. It only counts
 * brackets and commas outside strings; whether the text is JSON at all is for
 * JSON.parse to say afterwards, so on broken text it may stop early without a verdict.
 *
 * @example
 * checkJsonBounds('{"image": [' + "1,".repeat(1_000_000) + "1]}", { depth: 8, arrayItems: 64, values: 1000 });
 * // throws a 400: an array in the request body holds more than 64 items; ...
 */
export function checkJsonBounds(text: string, bounds: JsonBounds): void {
  // Per open array or object: whether it is an array, and the commas seen in it.
  const isArray: boolean[] = [];
  const commas: number[] = [];
  let values = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
      if (i < 0) return;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (isArray.length === bounds.depth) {
        throw invalidRequest(null, `request body nests arrays and objects more than ${bounds.depth} deep; no field of this API needs that`, "json_too_deep");
      }
      if (++values > bounds.values) throw tooManyValues(bounds);
      isArray.push(c === OPEN_ARRAY);
      commas.push(0);
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (isArray.pop() === undefined) return;
      commas.pop();
    } else if (c === COMMA) {
      const depth = commas.length - 1;
      if (depth < 0) return;
      commas[depth]++;
      if (isArray[depth] && commas[depth] + 1 > bounds.arrayItems) {
        throw invalidRequest(
          null,
          `an array in the request body holds more than ${bounds.arrayItems} items; the only array this API takes is image, of a few data URIs`,
          "json_array_too_long",
        );
      }
      if (++values > bounds.values) throw tooManyValues(bounds);
    }
  }
}

function tooManyValues(bounds: JsonBounds): RetouchError {
  return invalidRequest(null, `request body holds more than ${bounds.values} values; an edit request has a few fields`, "json_too_many_values");
}

/** The index of the quote that ends the string opening at `open`, or -1 if it never ends. */
function closingQuote(text: string, open: number): number {
  let quote = text.indexOf('"', open + 1);
  while (quote > 0) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    quote = text.indexOf('"', quote + 1);
  }
  return -1;
}
