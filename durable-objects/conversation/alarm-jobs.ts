// Deferred work of a conversation object, run by its alarm.
//
// Jobs are rows of the `schedule` table (one per kind, with a due time); the
// object keeps its single alarm at the earliest one. Kinds:
// - "recluster": the full k-means re-clustering (episode-refit.ts), scheduled
//   RECLUSTER_DELAY_MS after an append found the online assignment drifted,
//   so a burst of turns lands first;
// - "unpin": release an expired backend pin (pinning.ts, turn-session.ts);
// - "kv_background": fold complete blocks into kv mode's episode caches and
//   run queued rebuilds (docs/kv-mode.md).
import type { ConversationStore } from "./conversation-store";
import { releaseExpiredPin, UNPIN_JOB } from "./turn-session";
import { applyRefit, planRefit } from "../episodes/episode-refit";

export const RECLUSTER_JOB = "recluster";
export const KV_BACKGROUND_JOB = "kv_background";
/** Delay before a scheduled re-clustering runs (lets a burst of turns land first). */
export const RECLUSTER_DELAY_MS = 5000;

export interface AlarmWork {
  /** kv mode's background folds and rebuilds. */
  kvBackground(): Promise<void>;
  /** Full re-clustering, then whatever must follow it (the index rebuild). */
  recluster(): void;
}

/** Runs every job due by `now` (and those due within the coalescing delay), removing each row. */
export async function runDueJobs(store: ConversationStore, work: AlarmWork, now: number): Promise<void> {
  // Jobs due within the coalescing delay run now too (an alarm fired early, e.g. by tests, still does the work).
  for (const job of store.dueJobs(now + RECLUSTER_DELAY_MS)) {
    if (job.kind === UNPIN_JOB) {
      store.deleteJob(UNPIN_JOB);
      releaseExpiredPin(store, Date.now()); // re-schedules a pin that still holds (this alarm may run early)
      continue;
    }
    if (job.kind === KV_BACKGROUND_JOB) {
      store.deleteJob(KV_BACKGROUND_JOB);
      // A failure leaves the caches as they were (each fold/rebuild writes in one transaction); the next turn schedules it again.
      await work.kvBackground().catch((e) => console.error("kv background work failed:", e));
      continue;
    }
    if (job.kind === RECLUSTER_JOB) work.recluster();
    store.deleteJob(job.kind);
  }
}

/** Full k-means re-clustering: computed from storage, then written in one transaction. */
export function recluster(store: ConversationStore, module: WebAssembly.Module, episodesWanted: number, usesIdf: boolean): void {
  const plan = planRefit(store, module, episodesWanted, usesIdf);
  if (plan) store.transaction(() => applyRefit(store, plan));
}
