// The workload: sessions (conversations) arriving with Gamma inter-arrival
// gaps, each a few turns with exponential think time; each turn's request
// length (words) and requested reply length are Zipf. Built up front from a
// seed, so the same schedule drives epikv and the bare proxy.
import { exponential, gamma, zipf } from "./distributions";
import { mulberry32 as rng } from "../../protocol/mulberry32";

export interface WorkloadOptions {
  conversations: number;
  /** Seconds over which sessions start (the mean gap is window / conversations). */
  arrivalWindowS: number;
  /** Gamma shape of inter-arrival gaps (BurstGPT fits ≈ 0.2-0.6 for bursty conversation traffic). */
  burstShape: number;
  maxTurns: number;
  thinkMeanS: number;
  maxRequestWords: number;
  maxReplyWords: number;
  zipfS: number;
  seed: number;
}

export const DEFAULT_WORKLOAD: WorkloadOptions = {
  conversations: 2000,
  arrivalWindowS: 40,
  burstShape: 0.3,
  maxTurns: 6,
  thinkMeanS: 1,
  maxRequestWords: 400,
  maxReplyWords: 300,
  zipfS: 1.1,
  seed: 20240901,
};

export interface PlannedTurn {
  /** Think time before this turn (s), after the previous reply. */
  thinkS: number;
  requestWords: number;
  replyWords: number;
}

export interface Session {
  index: number;
  /** Start offset from the beginning of the run (s). */
  startS: number;
  turns: PlannedTurn[];
}

const WORDS = ["latency", "budget", "episode", "kernel", "garden", "river", "invoice", "orbit", "violin", "harbor", "cactus", "pixel", "lantern", "meadow", "quartz", "tundra"];

export function buildWorkload(o: WorkloadOptions): Session[] {
  const random = rng(o.seed);
  const requestLen = zipf(o.maxRequestWords, o.zipfS);
  const replyLen = zipf(o.maxReplyWords, o.zipfS);
  const turnCount = zipf(o.maxTurns, 1.0);
  const meanGap = o.arrivalWindowS / Math.max(1, o.conversations);
  const sessions: Session[] = [];
  let t = 0;
  for (let i = 0; i < o.conversations; i++) {
    if (i > 0) t += gamma(random, o.burstShape, meanGap / o.burstShape);
    const n = turnCount(random);
    const turns = Array.from({ length: n }, (_, k) => ({
      thinkS: k === 0 ? 0 : exponential(random, o.thinkMeanS),
      requestWords: requestLen(random),
      replyWords: replyLen(random),
    }));
    sessions.push({ index: i, startS: t, turns });
  }
  return sessions;
}

/** The user message of a turn: unique per (run, session, turn), then filler words. */
export function userText(runTag: string, session: number, turn: number, words: number): string {
  const body = Array.from({ length: Math.max(0, words - 1) }, (_, i) => WORDS[(session * 7 + turn * 13 + i) % WORDS.length]).join(" ");
  return `[${runTag} s${session} t${turn}] ${body}`.trim();
}
