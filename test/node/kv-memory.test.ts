// Bounded memory (docs/architecture.md, EpiCache step 4): the
// working set of block-wise prefill — response frame, one layer of cache +
// block, scores, new pages, as counted by MemoryMeter — is the same for a
// conversation of 10× and of 100× the block size, and so is the stored cache.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prefillBlock } from "../../durable-objects/kv/block-prefill";
import { chatOpening, messageTokens } from "../../durable-objects/kv/conversation-kv";
import { MemoryMeter } from "../../durable-objects/kv/memory-meter";
import { POLICIES, type PolicyName } from "../../durable-objects/kv/policies/index";
import { encodeUtf8, startKvTestBackend, topicMessages, type KvTestBackend } from "./kv-helpers";

let t: KvTestBackend;
beforeAll(async () => {
  t = await startKvTestBackend();
});
afterAll(() => t.backend.close());

const B = 16;
const M = 12;

async function peakFor(policy: PolicyName, blocks: number): Promise<{ peak: number; stored: number }> {
  const meter = new MemoryMeter();
  const engine = t.engine({ dtype: "int8", groupSize: 64 }, { meter });
  const m = t.model;
  const stream = [...chatOpening(m), ...topicMessages(400).flatMap((msg) => messageTokens(m, msg.role, encodeUtf8(msg.content)))];
  expect(stream.length).toBeGreaterThanOrEqual(blocks * B);
  const spec = { cache: "mem", policy: POLICIES[policy], budgets: Array.from({ length: m.layers }, () => M), promptTokens: encodeUtf8("About the budget: rent and groceries.") };
  for (let b = 0; b < blocks; b++) await prefillBlock(engine, spec, stream.slice(b * B, (b + 1) * B), b * B);
  return { peak: meter.peak, stored: engine.store.bytes("mem") };
}

describe("bounded working memory of block-wise prefill", () => {
  it.each(["epicache", "h2o"] as PolicyName[])("%s: peak at 100× the block size equals the peak at 10×", async (policy) => {
    const ten = await peakFor(policy, 10);
    const hundred = await peakFor(policy, 100);
    console.log(`${policy}: peak working set 10×B = ${ten.peak} B, 100×B = ${hundred.peak} B; stored ${ten.stored} B vs ${hundred.stored} B`);
    expect(hundred.peak).toBeGreaterThan(0);
    expect(hundred.peak).toBeLessThanOrEqual(ten.peak * 1.02);
    expect(hundred.stored).toBeLessThanOrEqual(ten.stored * 1.02);
  });

  it("the meter sees growth when nothing is evicted (full policy)", async () => {
    const ten = await peakFor("full", 10);
    const hundred = await peakFor("full", 100);
    expect(hundred.peak).toBeGreaterThan(ten.peak * 5);
  });
});
