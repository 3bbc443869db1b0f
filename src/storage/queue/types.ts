// The job queue port: edits handed to workers in any process. Its adapter is
// BullMQ on Redis (bullmq.ts), loaded only when REDIS_URL is set.

export interface QueueSettings {
  url: string;
  /** Every key starts with it, so one Redis serves several fleets (or tests). */
  prefix: string;
  /** Jobs of these lanes run at most this many at once across the fleet. */
  laneLimits: Record<string, number>;
}

/** What a processor learns about its job beyond the data. */
export interface JobAttempt {
  id: string;
  /** When the job was added (ms). */
  queuedAt: number;
  /** When a worker first started it (ms); earlier than now's start when a dead worker's job is run again. */
  firstStartedAt: number;
  /** True when another worker started this job before and stopped (died) without finishing it. */
  resumed: boolean;
}

export type Processor = (data: unknown, attempt: JobAttempt) => Promise<unknown>;

export interface JobWorkers {
  /** Stops taking jobs and waits for those running; after `graceMs` they are handed back to the queue for another worker. */
  close(graceMs?: number): Promise<void>;
}

export interface LaneCounts {
  lane: string;
  waiting: number;
  active: number;
}

export interface JobQueue {
  /** Adds a job and resolves with what its processor returned; rejects when it failed for good or `waitMs` passed. */
  submit(lane: string, data: object, waitMs: number): Promise<unknown>;
  /** Runs jobs of each lane in this process, up to the given number at once per lane. */
  work(lanes: Record<string, number>, processor: Processor, onError: (error: Error) => void): JobWorkers;
  counts(): Promise<LaneCounts[]>;
  /** Answers when Redis does (for /readyz). */
  ping(): Promise<unknown>;
  close(): Promise<void>;
}

/** Thrown by submit() when the job ended without an answer from its processor (its worker died too often) or took too long. */
export class JobLost extends Error {
  override name = "JobLost";
}
