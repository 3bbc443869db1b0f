// This browser's edits, kept in localStorage (at most 50, newest first).

export interface HistoryEntry {
  at: string;
  model: string;
  prompt: string;
  url: string;
  /** USD, as the gateway priced it. */
  price?: string;
  network?: string;
  transaction?: string;
  payer?: string;
}

const KEY = "retouch.history";
const KEEP = 50;

export function readHistory(): HistoryEntry[] {
  try {
    const entries = JSON.parse(localStorage.getItem(KEY) ?? "[]") as unknown;
    return Array.isArray(entries) ? (entries as HistoryEntry[]).filter((entry) => typeof entry?.url === "string") : [];
  } catch {
    return [];
  }
}

export function addToHistory(entry: HistoryEntry): HistoryEntry[] {
  const entries = [entry, ...readHistory()].slice(0, KEEP);
  localStorage.setItem(KEY, JSON.stringify(entries));
  return entries;
}

export function clearHistory(): void {
  localStorage.removeItem(KEY);
}
