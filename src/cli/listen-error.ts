// A port that cannot be listened on is the user's setting to change, not a crash:
// one line naming the variable, exit 2.

import { CliError, EXIT } from "../client/errors.ts";

/** `error` as a CliError when it is a listen failure (port taken, not allowed); undefined otherwise. */
export function listenError(error: unknown, setting: string): CliError | undefined {
  const { code, address, port } = error as { code?: unknown; address?: unknown; port?: unknown };
  if (code !== "EADDRINUSE" && code !== "EACCES" && code !== "EADDRNOTAVAIL") return undefined;
  const where = address !== undefined && port !== undefined ? `${String(address)}:${String(port)}` : "the address";
  const why = code === "EADDRINUSE" ? "another process is listening there" : code === "EACCES" ? "not allowed for this user" : "no such address on this machine";
  return new CliError(`cannot listen on ${where} (${code}: ${why}); set ${setting}`, EXIT.usage, { cause: error, code: "cannot_listen" });
}
