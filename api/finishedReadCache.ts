import { createHash } from 'node:crypto';

/** A finished rollout's GET answer, serialized once, with its entity tag. */
export interface CachedRead {
  body: string;
  etag: string;
}

/**
 * The answers to GETs of finished rollouts, which never change, so repeats cost no call to Temporal.
 * Bounded, least recently used out first (a Map keeps insertion order; a hit is moved to the end).
 * Hand-written because no LRU library is a direct dependency and this needs a dozen lines.
 */
export class FinishedReadCache {
  private readonly entries = new Map<string, CachedRead>();

  constructor(readonly capacity: number) {}

  get(workflowId: string): CachedRead | undefined {
    const hit = this.entries.get(workflowId);
    if (hit) {
      this.entries.delete(workflowId);
      this.entries.set(workflowId, hit);
    }
    return hit;
  }

  /** An answer serialized once, tagged by its content. */
  static serialize(answer: unknown): CachedRead {
    return FinishedReadCache.tagged(JSON.stringify(answer));
  }

  static tagged(body: string): CachedRead {
    return { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
  }

  /** Serializes the answer and keeps it (when the cache has room at all); returns it either way. */
  put(workflowId: string, answer: unknown): CachedRead {
    return this.keep(workflowId, FinishedReadCache.serialize(answer));
  }

  /** Keeps an answer already serialized (when the cache has room at all); returns it. */
  keep(workflowId: string, read: CachedRead): CachedRead {
    if (this.capacity <= 0) return read;
    this.entries.delete(workflowId);
    this.entries.set(workflowId, read);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return read;
  }

  get size(): number {
    return this.entries.size;
  }
}
