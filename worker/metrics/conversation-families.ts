// The global metric families, summed by tenant from conversation snapshots
// (the pure half of the scrape; conversation-metrics.ts reads the snapshots
// from the Durable Objects). Node-tested in test/node/metrics-registry.test.ts.
import type { ConversationInfo, ConversationStats } from "../../durable-objects/conversation/conversation-api";
import { kvFigures } from "../ui/kv-figures";
import { Registry, type MetricFamily } from "./registry";

/** Conversations one scrape reads at most (one RPC each), most recently used first. */
export const SCRAPE_CONVERSATION_LIMIT = 200;

export interface ConversationSnapshot {
  tenant: string;
  info: ConversationInfo;
  stats: ConversationStats | null;
}

/** The global families from a set of snapshots (the pure half). */
export function conversationFamilies(indexed: number, snapshots: readonly ConversationSnapshot[]): MetricFamily[] {
  const r = new Registry();
  const indexedGauge = r.gauge("epikv_conversations_indexed", "Conversations in the conversation index, all tenants");
  const scanned = r.gauge("epikv_metrics_conversations_scanned", `Conversations this scrape read (the ${SCRAPE_CONVERSATION_LIMIT} most recently used at most); the families below sum over these`);
  const conversations = r.gauge("epikv_conversations", "Conversations read by this scrape, by tenant");
  const messages = r.gauge("epikv_conversation_messages", "Messages stored, by tenant");
  const tokens = r.gauge("epikv_conversation_tokens", "Estimated tokens of the whole stored conversations, by tenant");
  const segments = r.gauge("epikv_conversation_segments", "Segments (windows of utterances) stored, by tenant");
  const episodes = r.gauge("epikv_conversation_episodes", "Episodes (k-means clusters of segments), by tenant");
  const budget = r.gauge("epikv_conversation_budget_tokens", "Sum of the conversations' per-turn token budgets, by tenant");
  const ratio = r.gauge("epikv_compression_ratio", "Conversation tokens / tokens a turn sends at most (min(conversation, budget)), summed over conversations, by tenant");
  const turns = r.counter("epikv_turns_total", "Chat turns committed, summed over existing conversations (a deleted conversation's turns leave the sum: reads as a counter reset)");
  const reclusters = r.counter("epikv_reclusters_total", "Full k-means re-clusterings run by the conversations' alarms (same caveat as epikv_turns_total)");
  const kvBytes = r.gauge("epikv_kv_bytes_stored", "Bytes of compressed KV pages stored (kv-mode conversations only), by tenant");
  const kvRatio = r.gauge("epikv_kv_compression_ratio", "Full fp32 KV bytes / stored KV bytes over kv-mode conversations, by tenant");

  indexedGauge.set({}, indexed);
  scanned.set({}, snapshots.length);
  const byTenant = new Map<string, ConversationSnapshot[]>();
  for (const s of snapshots) byTenant.set(s.tenant, [...(byTenant.get(s.tenant) ?? []), s]);
  for (const [tenant, list] of [...byTenant].sort(([a], [b]) => a.localeCompare(b))) {
    const t = { tenant };
    const sum = (f: (s: ConversationSnapshot) => number) => list.reduce((acc, s) => acc + f(s), 0);
    conversations.set(t, list.length);
    messages.set(t, sum((s) => s.info.message_count));
    const total = sum((s) => s.info.total_tokens);
    tokens.set(t, total);
    segments.set(t, sum((s) => s.info.segment_count));
    episodes.set(t, sum((s) => s.info.episode_count));
    budget.set(t, sum((s) => s.info.settings.budget_tokens));
    const sendable = sum((s) => Math.min(s.info.total_tokens, s.info.settings.budget_tokens));
    ratio.set(t, sendable > 0 ? total / sendable : 1);
    turns.inc(t, sum((s) => s.stats?.turns ?? 0));
    reclusters.inc(t, sum((s) => s.stats?.reclusters ?? 0));
    const kv = list.map((s) => kvFigures(s.info)).filter((k) => k !== null);
    if (kv.length) {
      const stored = kv.reduce((a, k) => a + k.bytes_stored, 0);
      kvBytes.set(t, stored);
      const full = kv.reduce((a, k) => a + (k.full_bytes ?? 0), 0);
      if (full > 0 && stored > 0) kvRatio.set(t, full / stored);
    }
  }
  return r.families();
}
