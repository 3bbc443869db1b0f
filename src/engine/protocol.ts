// Messages between the engine pool and its workers, and how an error crosses the thread
// boundary without losing what the server needs to answer (a RetouchError's status and code).

import { RetouchError, type ErrorType } from "../errors.ts";

export interface FillRequest {
  id: number;
  width: number;
  height: number;
  rgb: Uint8Array;
  mask: Uint8Array;
  /** Send up to this many previews (coarse estimates of the fill, at full size) before the result. */
  previews?: number;
}

export type FillReply =
  | { id: number; ok: true; rgb: Uint8Array }
  | { id: number; ok: false; error: WireError }
  | { id: number; preview: Uint8Array };

export interface WireError {
  name: string;
  message: string;
  retouch?: { status: number; type: ErrorType; code: string; param: string | null };
}

export function toWireError(error: unknown): WireError {
  if (error instanceof RetouchError) {
    const { status, type, code, param } = error;
    return { name: error.name, message: error.message, retouch: { status, type, code, param } };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

export function fromWireError(wire: WireError): Error {
  if (wire.retouch) return new RetouchError(wire.message, wire.retouch);
  const error = new Error(wire.message);
  error.name = wire.name;
  return error;
}
