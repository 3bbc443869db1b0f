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
  new JsonBoundsScanner(bounds).feed(text);
}

/**
 * The same check over a text that arrives in pieces: `feed` each piece as it comes
 * (split anywhere, even inside a string or between a backslash and what it escapes),
 * so that a body far out of bounds is refused at its first piece over, not after all of it.
 */
export class JsonBoundsScanner {
  private readonly bounds: JsonBounds;
  /** Per open array or object: whether it is an array, and the commas seen in it. */
  private readonly isArray: boolean[] = [];
  private readonly commas: number[] = [];
  private values = 0;
  private inString = false;
  /** Backslashes that ended the previous piece inside a string (an odd run escapes what comes next). */
  private backslashes = 0;
  /** Broken text: nothing more to count (JSON.parse will say what is wrong). */
  private stopped = false;

  constructor(bounds: JsonBounds) {
    this.bounds = bounds;
  }

  feed(text: string): void {
    const { bounds, isArray, commas } = this;
    let i = 0;
    while (i < text.length && !this.stopped) {
      if (this.inString) {
        const end = this.stringEnd(text, i);
        if (end < 0) return;
        this.inString = false;
        i = end + 1;
        continue;
      }
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.inString = true;
        this.backslashes = 0;
      } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        if (isArray.length === bounds.depth) {
          throw invalidRequest(null, `request body nests arrays and objects more than ${bounds.depth} deep; no field of this API needs that`, "json_too_deep");
        }
        if (++this.values > bounds.values) throw tooManyValues(bounds);
        isArray.push(c === OPEN_ARRAY);
        commas.push(0);
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
        if (isArray.pop() === undefined) this.stopped = true;
        commas.pop();
      } else if (c === COMMA) {
        const depth = commas.length - 1;
        if (depth < 0) {
          this.stopped = true;
          return;
        }
        commas[depth]++;
        if (isArray[depth] && commas[depth] + 1 > bounds.arrayItems) {
          throw invalidRequest(
            null,
            `an array in the request body holds more than ${bounds.arrayItems} items; the only array this API takes is image, of a few data URIs`,
            "json_array_too_long",
          );
        }
        if (++this.values > bounds.values) throw tooManyValues(bounds);
      }
      i++;
    }
  }

  /**
   * Inside a string from `from`: the index of the quote that ends it in this piece, or -1
   * (remembering a trailing run of backslashes for the next piece).
   */
  private stringEnd(text: string, from: number): number {
    let quote = text.indexOf('"', from);
    while (quote >= 0) {
      let run = 0;
      while (quote - 1 - run >= from && text.charCodeAt(quote - 1 - run) === BACKSLASH) run++;
      if (quote - run === from) run += this.backslashes; // the run started in the previous piece
      this.backslashes = 0;
      if (run % 2 === 0) return quote;
      from = quote + 1;
      quote = text.indexOf('"', from);
    }
    let run = 0;
    while (run < text.length - from && text.charCodeAt(text.length - 1 - run) === BACKSLASH) run++;
    this.backslashes = run === text.length - from ? this.backslashes + run : run;
    return -1;
  }
}

function tooManyValues(bounds: JsonBounds): RetouchError {
  return invalidRequest(null, `request body holds more than ${bounds.values} values; an edit request has a few fields`, "json_too_many_values");
}
