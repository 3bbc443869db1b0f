// Wraps an async shutdown so that calling it again returns the first call's promise:
// ganache's disconnect() never settles when called twice, which would hang a second close().

export function once(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= task());
}
