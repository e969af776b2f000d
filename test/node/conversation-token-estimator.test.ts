import { describe, expect, it } from "vitest";
import {
  calibrateCharsPerToken, DEFAULT_CHARS_PER_TOKEN, MAX_CHARS_PER_TOKEN, MESSAGE_OVERHEAD_TOKENS, messageWeight, MIN_CHARS_PER_TOKEN,
  textWeight, tokensForWeight,
} from "../../durable-objects/selection/token-estimator";

describe("token estimator", () => {
  it("weights ASCII once and other code points (including astral ones) four times", () => {
    expect(textWeight("abcd")).toBe(4);
    expect(textWeight("日本")).toBe(8);
    expect(textWeight("😀")).toBe(4); // one code point, two UTF-16 units
    expect(textWeight("")).toBe(0);
  });

  it("counts name, tool_call_id and tool_calls, and adds per-message overhead", () => {
    const plain = messageWeight({ content: "hello" });
    expect(messageWeight({ content: "hello", name: "bob" })).toBe(plain + 3);
    expect(messageWeight({ content: "", tool_calls: [{ id: "1" }] })).toBe(JSON.stringify([{ id: "1" }]).length);
    expect(tokensForWeight(0, 4)).toBe(MESSAGE_OVERHEAD_TOKENS);
    expect(tokensForWeight(9, 4)).toBe(3 + MESSAGE_OVERHEAD_TOKENS);
  });

  it("calibration converges to the backend's real ratio", () => {
    // A tokenizer with 2.5 chars/token: text of W weight costs W / 2.5 tokens.
    let cpt = DEFAULT_CHARS_PER_TOKEN;
    for (let turn = 0; turn < 30; turn++) {
      const weight = 4000;
      const estimated = Math.ceil(weight / cpt);
      const actual = Math.ceil(weight / 2.5);
      cpt = calibrateCharsPerToken(cpt, estimated, actual);
    }
    expect(cpt).toBeGreaterThan(2.4);
    expect(cpt).toBeLessThan(2.6);
  });

  it("moves by an EMA step, not a jump, and stays clamped", () => {
    const once = calibrateCharsPerToken(4, 1000, 2000);
    expect(once).toBeLessThan(4);
    expect(once).toBeGreaterThan(2); // the full correction would be 2
    let cpt = 4;
    for (let i = 0; i < 50; i++) cpt = calibrateCharsPerToken(cpt, 1000, 1_000_000);
    expect(cpt).toBeCloseTo(MIN_CHARS_PER_TOKEN, 4);
    expect(cpt).toBeGreaterThanOrEqual(MIN_CHARS_PER_TOKEN);
    for (let i = 0; i < 50; i++) cpt = calibrateCharsPerToken(cpt, 1000, 1);
    expect(cpt).toBeCloseTo(MAX_CHARS_PER_TOKEN, 4);
    expect(cpt).toBeLessThanOrEqual(MAX_CHARS_PER_TOKEN);
  });

  it("ignores unusable samples", () => {
    expect(calibrateCharsPerToken(4, 10, 100)).toBe(4); // too small
    expect(calibrateCharsPerToken(4, 1000, 0)).toBe(4);
    expect(calibrateCharsPerToken(4, NaN, 100)).toBe(4);
    expect(calibrateCharsPerToken(4, 1000, Infinity)).toBe(4);
  });
});
